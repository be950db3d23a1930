# Builds the benchmark tools once (Release) into OUT/tools; source it. bench_tool ARGS... runs one.
tools_build() {
  dotnet build bench/RankService.Benchmarks -c Release -o "$1/tools" -v q -nologo >"$1/tools-build.log" 2>&1 || { tail -n 30 "$1/tools-build.log"; return 1; }
  TOOLS_DLL="$1/tools/RankService.Benchmarks.dll"
}
bench_tool() { dotnet "$TOOLS_DLL" "$@"; }
# field NAME LINE: the value of NAME=... in a RESULT line.
field() { sed -nE "s/.*(^| )$1=([^ ]*).*/\2/p" <<<"$2"; }
