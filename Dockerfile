# syntax=docker/dockerfile:1
# RankService web host (roles All, Api or Worker by Service__Role).
#
#   docker build -t rankservice .                                   # CPU: libtorch-cpu, aspnet runtime image
#   docker build -t rankservice:cuda --build-arg TORCH_BACKEND=cuda .   # GPU: TorchSharp-cuda-linux, CUDA base image
#
# TORCH_BACKEND selects the TorchSharp backend package (MSBuild property TorchBackend, see Directory.Build.props)
# and the runtime base: `cpu` runs on mcr.microsoft.com/dotnet/aspnet:10.0; `cuda` runs on an nvidia/cuda runtime
# image (CUDA_IMAGE) with the ASP.NET Core runtime copied in from the aspnet image. The cuda build needs a NuGet feed
# that serves TorchSharp-cuda-linux and its libtorch-cuda package.
#
# Both stages are Ubuntu 24.04 (the .NET 10 default): its libstdc++ has GLIBCXX_3.4.32, so the libstdc++ shim that
# runs on publish (build/GlibcxxShim.targets, mode auto) finds nothing to do. GLIBCXX_SHIM_MODE=always would patch
# anyway (for an older runtime base); the patch only relaxes a version need, so it is harmless either way.

ARG TORCH_BACKEND=cpu
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- build: restore and publish with the SDK ----
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_BACKEND
ARG GLIBCXX_SHIM_MODE=auto
WORKDIR /src
# Restore first, from the project files only, so the (large) libtorch restore is cached across source edits.
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/RankService.Ranking/RankService.Ranking.csproj src/RankService.Ranking/
COPY src/RankService.Api/RankService.Api.csproj src/RankService.Api/
RUN dotnet restore src/RankService.Api/RankService.Api.csproj -p:TorchBackend=${TORCH_BACKEND}
COPY appsettings.json ./
COPY src/ src/
RUN dotnet publish src/RankService.Api/RankService.Api.csproj -c Release --no-restore -o /app \
      -p:TorchBackend=${TORCH_BACKEND} -p:GlibcxxShimMode=${GLIBCXX_SHIM_MODE} -p:UseAppHost=false

# ---- runtime bases: one per backend; the final stage picks one by TORCH_BACKEND ----
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime-cpu

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS aspnet
FROM ${CUDA_IMAGE} AS runtime-cuda
# The ASP.NET Core shared framework from the official image (same Ubuntu release), plus what .NET needs at run time.
ENV DOTNET_ROOT=/usr/share/dotnet \
    APP_UID=1654 \
    ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libicu74 libssl3t64 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid=$APP_UID app \
 && useradd --no-log-init --uid=$APP_UID --gid=$APP_UID --create-home app

# ---- final image ----
FROM runtime-${TORCH_BACKEND} AS final
# curl for the HEALTHCHECK (the aspnet image has none).
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /artifacts /data /app/logs \
 && chown -R $APP_UID:$APP_UID /artifacts /data /app/logs
WORKDIR /app
COPY --from=build --chown=$APP_UID:$APP_UID /app ./

# Settings the service reads (appsettings.json sections as Section__Key); compose and Kubernetes set the rest.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Artifacts__Root=/artifacts \
    Data__Root=/data \
    Serilog__WriteTo__1__Args__path=/app/logs/rankservice-.log

# Job folders, checkpoints, TensorBoard events and serving.json; data sets (downloaded or mounted).
VOLUME ["/artifacts", "/data"]
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl --fail --silent --show-error http://localhost:8080/health/live || exit 1
ENTRYPOINT ["dotnet", "RankService.Api.dll"]
