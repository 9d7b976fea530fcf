using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FusionActors.Runtime.Ingress;

/// <summary>
/// The browser sensor page at <see cref="Path"/>: microphone audio pushed over the WebSocket ingress, results shown
/// live. Its files are embedded in this assembly and served as they are, with a content security policy that lets the
/// page load only itself and talk only to this node.
/// </summary>
public static class SensorPage
{
    public const string Path = "/sensor/";

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType)> Files = Load();

    private static FrozenDictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(SensorPage).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("sensor/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var file = name["sensor/".Length..];
            var type = System.IO.Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            files[file] = (copy.ToArray(), type);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Names of the page's files.</summary>
    public static IEnumerable<string> FileNames => Files.Keys;

    public static void Map(WebApplication app)
    {
        app.MapGet(Path + "{file?}", (HttpContext context, string? file) =>
        {
            if (string.IsNullOrEmpty(file) && !context.Request.Path.Value!.EndsWith('/'))
            {
                // The page's files are relative to /sensor/: /sensor (routing matches it here too) goes there first.
                context.Response.Redirect(Path);
                return Task.CompletedTask;
            }
            return Serve(context, string.IsNullOrEmpty(file) ? "index.html" : file);
        });
    }

    private static async Task Serve(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var entry))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var headers = context.Response.Headers;
        headers.ContentType = entry.ContentType;
        headers.CacheControl = "no-cache";
        headers["X-Content-Type-Options"] = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Only the node's own files and its own WebSocket; no inline script, no framing by another site.
        // ws:/wss: of this host are named too: older browsers do not count them as 'self'.
        var host = context.Request.Host.ToString();
        headers["Content-Security-Policy"] =
            $"default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws://{host} wss://{host}; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["Permissions-Policy"] = "microphone=(self), camera=()";
        await context.Response.Body.WriteAsync(entry.Body, context.RequestAborted);
    }
}
