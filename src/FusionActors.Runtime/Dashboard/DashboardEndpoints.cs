using System.Collections.Frozen;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using FusionActors.Runtime.Ingress;
using FusionActors.Runtime.OperatorConsole;
using FusionActors.Runtime.OperatorConsole.Palettes;
using FusionActors.Protocol;

namespace FusionActors.Runtime.Dashboard;

/// <summary>
/// The live dashboard at <see cref="Path"/> on the node's HTTP port (docs/operations.md#dashboard): a page embedded in
/// this assembly, a JSON API and a live feed over a WebSocket (<see cref="DashboardLive"/>). The page itself is public;
/// everything it shows or does needs the operator token (the console's, <c>Fusion:Console:Token</c>): as
/// <c>Authorization: Bearer</c> on the API, as the first message of the live feed, never in a URL (a request with a query
/// string is refused). Without a configured operator token the dashboard is off and every path under it answers 404
/// with the reason. Its data come from the operator console's own queries (<see cref="SessionQueries"/>) and its live
/// feed is a subscription to the session, as the console's <c>watch</c>. Operator actions (close a session, crash a
/// stream's encoder, drop a stream's frames) are logged as an audit line at warning level.
/// </summary>
public sealed class DashboardEndpoints
{
    public const string Path = "/dashboard/";
    public const string ApiPath = "/dashboard/api/";

    /// <summary>Sessions a listing asks the status of, at most (the first by id); a listing is reused for <see cref="ListReuse"/>.</summary>
    public const int MaxListed = 200;

    public static readonly TimeSpan ListReuse = TimeSpan.FromSeconds(2);

    /// <summary>Longest session or stream id taken from a request.</summary>
    public const int MaxIdLength = 256;

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType)> Files = Load();

    private readonly HttpOptions _http;
    private readonly ActorSystem _system;
    private readonly IActorRef _sessions;
    private readonly DashboardAccess _access;
    private readonly ILogger _log;
    private readonly List<Task> _feeds = [];
    private readonly Lock _listLock = new();
    private (DateTime At, Task<object> Listing)? _listing;

    public DashboardEndpoints(HttpOptions http, string? operatorToken, ActorSystem system, IActorRef sessions, ILogger log)
    {
        _http = http;
        _system = system;
        _sessions = sessions;
        _access = new DashboardAccess(operatorToken);
        _log = log;
    }

    /// <summary>Whether the dashboard is served (an operator token is configured).</summary>
    public bool Enabled => _access.Enabled;

    public DashboardCounters Counters { get; } = new();

    /// <summary>Names of the page's embedded files.</summary>
    public static IEnumerable<string> FileNames => Files.Keys;

    public void Map(WebApplication app, CancellationToken stopping)
    {
        app.MapGet(Path + "{file?}", (HttpContext context, string? file) =>
        {
            if (string.IsNullOrEmpty(file) && !context.Request.Path.Value!.EndsWith('/'))
            {
                // The page's files are relative to /dashboard/: /dashboard (routing matches it here too) goes there first.
                context.Response.Redirect(Path);
                return Task.CompletedTask;
            }
            return Asset(context, string.IsNullOrEmpty(file) ? "index.html" : file);
        });
        app.MapGet(ApiPath + "sessions", new RequestDelegate(ListSessions));
        app.MapGet(ApiPath + "sessions/{id}", (HttpContext context, string id) => Api(context, async _ =>
            DashboardJson.Status(await SessionQueries.OpenStatus(_sessions, _access.Credential, Id(id)), withRecent: true)));
        app.MapPost(ApiPath + "sessions/{id}/close", (HttpContext context, string id) => Api(context, async c =>
        {
            var status = await SessionQueries.OpenStatus(_sessions, _access.Credential, Id(id));
            return await Audited(c, "close session", status.SessionId, null,
                () => SessionQueries.Send(_sessions, new CloseSession(status.SessionId, _access.Credential)));
        }));
        app.MapPost(ApiPath + "sessions/{id}/streams/{stream}/crash-encoder", (HttpContext context, string id, string stream) => Api(context, async c =>
        {
            var status = await SessionQueries.OpenStatus(_sessions, _access.Credential, Id(id));
            var s = SessionQueries.Stream(status, Id(stream));
            return await Audited(c, "crash encoder", status.SessionId, s.StreamId,
                () => SessionQueries.Send(_sessions, new CrashEncoder(status.SessionId, s.StreamId, _access.Credential)));
        }));
        app.MapPost(ApiPath + "sessions/{id}/streams/{stream}/drop/{seconds:int}", (HttpContext context, string id, string stream, int seconds) => Api(context, async c =>
        {
            if (seconds is <= 0 or > 3600) throw new CommandFailedException($"SECONDS must be 1..3600, not {seconds}");
            var status = await SessionQueries.OpenStatus(_sessions, _access.Credential, Id(id));
            var s = SessionQueries.Stream(status, Id(stream));
            return await Audited(c, $"drop frames for {seconds} s", status.SessionId, s.StreamId,
                () => SessionQueries.Send(_sessions, new DropFrames(status.SessionId, s.StreamId, TimeSpan.FromSeconds(seconds), _access.Credential)));
        }));
        app.Map(ApiPath + "live", context => Live(context, stopping));
    }

    /// <summary>Waits (a while) for the open live feeds to end after the node began stopping.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        Task[] open;
        lock (_feeds) open = [.. _feeds];
        await Task.WhenAny(Task.WhenAll(open), Task.Delay(timeout));
    }

    internal static string? SessionIdProblem(string? id) => id switch
    {
        null or "" => "a session id is required",
        { Length: > MaxIdLength } => $"an id is at most {MaxIdLength} characters",
        _ when id.Any(char.IsControl) => "an id has no control characters",
        _ => null,
    };

    private static string Id(string id) => SessionIdProblem(id) is { } problem ? throw new BadRequestException(problem) : id;

    private async Task<object> Audited(HttpContext context, string action, string sessionId, string? streamId, Func<Task<string>> run)
    {
        Counters.Action();
        var remote = Remote(context);
        try
        {
            var outcome = await run();
            _log.LogWarning("Dashboard audit: {Action} on session {Session}{Stream} by {Remote}: {Outcome}",
                action, sessionId, streamId is null ? "" : $" stream {streamId}", remote, outcome);
            return new { kind = "done", action, sessionId, streamId, outcome };
        }
        catch (Exception e) when (e is CommandFailedException or AskTimeoutException)
        {
            _log.LogWarning("Dashboard audit: {Action} on session {Session}{Stream} by {Remote} failed: {Error}",
                action, sessionId, streamId is null ? "" : $" stream {streamId}", remote, e.Message);
            throw;
        }
    }

    private Task ListSessions(HttpContext context) => Api(context, _ => List());

    private Task<object> List()
    {
        lock (_listLock)
        {
            if (_listing is { } l && DateTime.UtcNow - l.At < ListReuse && !l.Listing.IsFaulted) return l.Listing;
            var listing = ListNow();
            _listing = (DateTime.UtcNow, listing);
            return listing;
        }
    }

    private async Task<object> ListNow()
    {
        var (open, unanswered, truncated) = await SessionQueries.OpenSessions(_system, _sessions, _access.Credential, MaxListed);
        return new { sessions = open.Select(s => DashboardJson.ListRow(s.Node, s.Status)).ToArray(), unanswered, truncated, maxListed = MaxListed };
    }

    /// <summary>Off, a query string, or no valid token: the typed refusal; else the handler's JSON, its failures typed too.</summary>
    private async Task Api(HttpContext context, ApiHandler handle)
    {
        Secure(context, "application/json; charset=utf-8");
        if (Refusal(context) is { } refused)
        {
            await Write(context, refused.Status, refused.Body);
            return;
        }
        try { await Write(context, StatusCodes.Status200OK, await handle(context)); }
        catch (BadRequestException e) { await Write(context, StatusCodes.Status400BadRequest, DashboardJson.Error("BadRequest", e.Message)); }
        catch (CommandFailedException e)
        {
            var notOpen = e.Message.Contains("is not open", StringComparison.Ordinal) || e.Message.Contains("has no stream", StringComparison.Ordinal);
            await Write(context, notOpen ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict,
                DashboardJson.Error(notOpen ? "NotFound" : "Refused", e.Message));
        }
        catch (AskTimeoutException e) { await Write(context, StatusCodes.Status504GatewayTimeout, DashboardJson.Error("Timeout", e.Message)); }
    }

    private (int Status, object Body)? Refusal(HttpContext context)
    {
        if (!_access.Enabled)
            return (StatusCodes.Status404NotFound, DashboardJson.Error("DashboardOff",
                "the dashboard is off: it needs an operator token, Fusion:Console:Token (FUSION_CONSOLE_TOKEN)"));
        if (context.Request.QueryString.HasValue)
        {
            _log.LogWarning("Dashboard: refused {Method} {Path} from {Remote}: a query string", context.Request.Method, context.Request.Path, Remote(context));
            return (StatusCodes.Status400BadRequest, DashboardJson.Error("QueryRefused",
                "the dashboard takes no query string: a token never goes in a URL; send it as Authorization: Bearer"));
        }
        if (context.WebSockets.IsWebSocketRequest) return null; // the live feed's token is its first message
        var header = context.Request.Headers.Authorization;
        var presented = header.Count == 1 && header[0] is { } h && h.StartsWith("Bearer ", StringComparison.Ordinal) ? h["Bearer ".Length..].Trim() : null;
        if (_access.Accepts(presented)) return null;
        Counters.CountUnauthorized();
        _log.LogWarning("Dashboard: refused {Method} {Path} from {Remote}: {Why}", context.Request.Method, context.Request.Path, Remote(context),
            presented is null ? "no token" : "wrong token");
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"fusion-dashboard\"";
        return (StatusCodes.Status401Unauthorized, DashboardJson.Error("Unauthorized", "send the operator token as Authorization: Bearer TOKEN"));
    }

    private async Task Live(HttpContext context, CancellationToken stopping)
    {
        Secure(context, "application/json; charset=utf-8");
        if (Refusal(context) is { } refused)
        {
            await Write(context, refused.Status, refused.Body);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Write(context, StatusCodes.Status426UpgradeRequired, DashboardJson.Error("UpgradeRequired", "the live feed is a WebSocket"));
            return;
        }
        // A page of another site could open a WebSocket here (the browser sends this site's nothing, but still): only our own.
        if (context.Request.Headers.Origin is { Count: > 0 } origin &&
            !(Uri.TryCreate(origin[0], UriKind.Absolute, out var o) && string.Equals(o.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)))
        {
            _log.LogWarning("Dashboard: refused a live feed from {Remote}: origin {Origin}", Remote(context), origin[0]);
            await Write(context, StatusCodes.Status403Forbidden, DashboardJson.Error("CrossOrigin", "the live feed is for the dashboard page of this node"));
            return;
        }
        if (!Counters.TryAccept(_http.DashboardMaxConnections))
        {
            _log.LogWarning("Dashboard: refused a live feed from {Remote}: {Max} are open", Remote(context), _http.DashboardMaxConnections);
            await Write(context, StatusCodes.Status503ServiceUnavailable, DashboardJson.Error("TooManyConnections",
                $"{_http.DashboardMaxConnections} live feeds are open (Fusion:Http:DashboardMaxConnections)"));
            return;
        }
        try
        {
            var pong = _http.DashboardPongTimeout;
            using var ws = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = pong / 2, KeepAliveTimeout = pong,
            });
            var run = new DashboardLive(ws, _http, _system, _sessions, _access, Counters, _log, Remote(context)).RunAsync(stopping);
            lock (_feeds) _feeds.Add(run);
            try { await run; }
            finally
            {
                lock (_feeds) _feeds.Remove(run);
            }
        }
        finally
        {
            Counters.Closed();
        }
    }

    private static string Remote(HttpContext context) => $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";

    private static async Task Write(HttpContext context, int status, object body)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(DashboardJson.Bytes(body), context.RequestAborted);
    }

    private async Task Asset(HttpContext context, string file)
    {
        if (!_access.Enabled)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("the dashboard is off: it needs an operator token, Fusion:Console:Token (FUSION_CONSOLE_TOKEN)\n");
            return;
        }
        if (context.Request.QueryString.HasValue || !Files.TryGetValue(file, out var entry))
        {
            // The page has no use for a query string: a token pasted into one would be logged by proxies, so it is refused here too.
            context.Response.StatusCode = context.Request.QueryString.HasValue ? StatusCodes.Status400BadRequest : StatusCodes.Status404NotFound;
            return;
        }
        Secure(context, entry.ContentType);
        await context.Response.Body.WriteAsync(entry.Body, context.RequestAborted);
    }

    /// <summary>The headers of everything under /dashboard/: only this node's files and WebSocket, no framing, no caching, no referrer.</summary>
    private static void Secure(HttpContext context, string contentType)
    {
        var headers = context.Response.Headers;
        headers.ContentType = contentType;
        headers.CacheControl = "no-store";
        headers["X-Content-Type-Options"] = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        var host = context.Request.Host.ToString();
        headers["Content-Security-Policy"] =
            $"default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws://{host} wss://{host}; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["Permissions-Policy"] = "microphone=(), camera=()";
    }

    private static FrozenDictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var file = name["dashboard/".Length..];
            files[file] = (copy.ToArray(), System.IO.Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            });
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private delegate Task<object> ApiHandler(HttpContext context);

    private sealed class BadRequestException(string message) : Exception(message);
}
