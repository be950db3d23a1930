using System.Collections.Concurrent;

namespace RankService.Api.Extensions;

/// <summary>
/// One logger per category, made once: Serilog's <see cref="ILoggerFactory"/> builds a new logger (a Serilog
/// <c>ForContext</c> logger with its own event-id cache) on every <see cref="CreateLogger"/>, and ASP.NET Core asks for
/// one on every request (each typed result writing its answer, each authentication handler). Microsoft's own
/// <c>LoggerFactory</c> caches the same way. Levels are still read per call, so caching changes nothing a log shows.
/// </summary>
internal sealed class CachingLoggerFactory(ILoggerFactory inner, bool ownsInner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) =>
        _loggers.TryGetValue(categoryName, out ILogger? logger) ? logger : _loggers.GetOrAdd(categoryName, inner.CreateLogger);

    public void AddProvider(ILoggerProvider provider)
    {
        inner.AddProvider(provider);
        _loggers.Clear(); // a logger made before the provider came would not write to it
    }

    public void Dispose()
    {
        if (ownsInner)
        {
            inner.Dispose();
        }
    }

    /// <summary>Wraps the last <see cref="ILoggerFactory"/> registered in <paramref name="services"/>, however it was registered.</summary>
    public static void Decorate(IServiceCollection services)
    {
        int index = -1;
        for (int i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(ILoggerFactory) && !services[i].IsKeyedService)
            {
                index = i;
            }
        }
        if (index < 0)
        {
            throw new InvalidOperationException("No ILoggerFactory is registered to cache loggers for; add logging first.");
        }
        ServiceDescriptor registered = services[index];
        services[index] = ServiceDescriptor.Singleton<ILoggerFactory>(provider => registered switch
        {
            // An instance someone else made stays theirs to dispose, as the container would have left it.
            { ImplementationInstance: ILoggerFactory instance } => new CachingLoggerFactory(instance, ownsInner: false),
            { ImplementationFactory: { } factory } => new CachingLoggerFactory((ILoggerFactory)factory(provider), ownsInner: true),
            _ => new CachingLoggerFactory((ILoggerFactory)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!), ownsInner: true),
        });
    }
}
