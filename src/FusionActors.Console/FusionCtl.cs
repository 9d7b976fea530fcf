using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl;

/// <summary>
/// fusionctl: <c>fusionctl --host 127.0.0.1:9110 [--token T] [--tls [--tls-ca PEM]] [--json] PALETTE COMMAND [ARGS]</c>
/// runs one command; with no command it opens an interactive prompt with Tab completion of the node's palettes.
/// Over TLS the token is sent only after the handshake, once the node's certificate is validated; without TLS
/// fusionctl sends a token to a loopback address only.
/// </summary>
public static class FusionCtl
{
    public const string HostVariable = "FUSION_CONSOLE_HOST";
    public const string TokenVariable = "FUSION_CONSOLE_TOKEN";
    public const string TlsVariable = "FUSION_CONSOLE_TLS";
    public const string TlsCaVariable = "FUSION_CONSOLE_TLS_CA";
    public const int DefaultPort = 9110;

    /// <summary>Runs fusionctl in-process (what Main and the tests call).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancel = default, TextReader? input = null) =>
        RunAsync(args, output, error, new Interrupt(cancel), input ?? TextReader.Null);

    /// <param name="input">Lines for the prompt when not on a terminal; null = the terminal, with line editing and completion.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Interrupt interrupt, TextReader? input)
    {
        var host = new Option<string>("--host")
        {
            Description = $"console address of a node, HOST[:PORT] (default ${HostVariable} or 127.0.0.1:{DefaultPort})",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } h ? h : $"127.0.0.1:{DefaultPort}",
        };
        var token = new Option<string?>("--token") { Description = $"console token (default ${TokenVariable})" };
        var tls = new Option<bool>("--tls")
        {
            Description = $"connect over TLS; the token is sent only once the node's certificate is validated (default ${TlsVariable}=1)",
        };
        var tlsCa = new Option<string?>("--tls-ca")
        {
            Description = $"PEM file of the CA (or the self-signed certificate) to trust for the node's certificate instead of the system's CAs; implies --tls (default ${TlsCaVariable})",
        };
        var tlsInsecure = new Option<bool>("--tls-insecure")
        {
            Description = "dev only: do not check that the node's certificate names the --host (its chain is still validated)",
        };
        var json = new Option<bool>("--json") { Description = "print JSON (one document per response) instead of tables" };
        var timeout = new Option<double>("--timeout") { Description = "seconds to wait for the connection", DefaultValueFactory = _ => 5 };
        var words = new Argument<string[]>("command")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "PALETTE COMMAND [ARGS], e.g. 'sessions list'; none = interactive prompt ('help' lists the palettes)",
        };
        var root = new RootCommand("fusionctl: operator console of a FusionActors node") { host, token, tls, tlsCa, tlsInsecure, json, timeout, words };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine("usage: fusionctl [--host HOST:PORT] [--token T] [--tls [--tls-ca PEM] [--tls-insecure]] [--json] PALETTE COMMAND [ARGS]   (fusionctl --help)");
            return ExitCodes.Usage;
        }
        // The root has no action of its own: an action here is --help or --version.
        if (parsed.Action is not null) return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });

        // Palette arguments never start with "--": such a word is an option fusionctl does not have.
        if ((parsed.GetValue(words) ?? []).FirstOrDefault(w => w.StartsWith("--", StringComparison.Ordinal)) is { } unknown)
        {
            error.WriteLine($"error: unrecognized option '{unknown}'; fusionctl's options: --host, --token, --tls, --tls-ca, --tls-insecure, --json, --timeout (fusionctl --help)");
            return ExitCodes.Usage;
        }
        var caPath = parsed.GetValue(tlsCa) ?? Env(TlsCaVariable);
        var useTls = parsed.GetValue(tls) || IsOn(Env(TlsVariable)) || caPath is not null;
        if (parsed.GetValue(tlsInsecure) && !useTls)
        {
            error.WriteLine("error: --tls-insecure relaxes TLS, which is off: add --tls (or --tls-ca PEM)");
            return ExitCodes.Usage;
        }
        var options = new Settings(parsed.GetValue(host)!, parsed.GetValue(token) ?? Env(TokenVariable), useTls, caPath, parsed.GetValue(tlsInsecure),
            parsed.GetValue(json), TimeSpan.FromSeconds(parsed.GetValue(timeout)), parsed.GetValue(words) ?? []);
        return await ExecuteAsync(options, output, error, interrupt, input);
    }

    private sealed record Settings(string Host, string? Token, bool Tls, string? TlsCa, bool TlsInsecure, bool Json, TimeSpan Timeout, string[] Words);

    private static async Task<int> ExecuteAsync(Settings s, TextWriter output, TextWriter error, Interrupt interrupt, TextReader? input)
    {
        if (!TryParseHost(s.Host, out var hostname, out var port))
        {
            error.WriteLine($"error: --host '{s.Host}' is not HOST[:PORT]");
            return ExitCodes.Usage;
        }
        if (s.Token is not null && !s.Tls && !IsLoopback(hostname))
        {
            error.WriteLine($"error: {hostname} is not loopback: fusionctl sends a token there only over TLS (add --tls, and --tls-ca PEM for a private CA)");
            return ExitCodes.Usage;
        }
        ConsoleTls? tls = null;
        if (s.Tls)
        {
            X509Certificate2Collection? roots = null;
            if (s.TlsCa is not null)
            {
                roots = new X509Certificate2Collection();
                try { roots.ImportFromPemFile(s.TlsCa); }
                catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
                {
                    error.WriteLine($"error: --tls-ca '{s.TlsCa}' cannot be read as PEM certificates: {e.Message}");
                    return ExitCodes.Usage;
                }
                if (roots.Count == 0)
                {
                    error.WriteLine($"error: --tls-ca '{s.TlsCa}' holds no PEM certificate");
                    return ExitCodes.Usage;
                }
            }
            tls = new ConsoleTls(roots, s.TlsInsecure);
        }
        var terminal = input is null && !System.Console.IsOutputRedirected && ReferenceEquals(output, System.Console.Out);
        var renderer = new ResponseRenderer(output, error, s.Json, terminal);

        ConsoleConnection connection;
        try { connection = await ConsoleConnection.ConnectAsync(hostname, port, s.Token, tls, s.Timeout, interrupt.Token); }
        catch (ConsoleConnection.RefusedException e)
        {
            error.WriteLine($"error: {hostname}:{port} refused the connection: {e.Message}");
            return ExitCodes.Unavailable;
        }
        catch (ConsoleConnection.CertificateRejectedException e)
        {
            error.WriteLine($"error: the TLS certificate of {hostname}:{port} is not trusted, so nothing was sent to it: {e.Message}");
            return ExitCodes.Unavailable;
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            error.WriteLine($"error: cannot reach the console of a node at {hostname}:{port}: {e.Message}");
            return ExitCodes.Unavailable;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Unavailable;
        }

        await using (connection)
        {
            if (s.Words.Length > 0) return await RunOneAsync(connection, s.Words, renderer, error, interrupt.Renew());
            return await PromptAsync(connection, $"{hostname}:{port}", renderer, error, interrupt, input);
        }
    }

    private static async Task<int> RunOneAsync(ConsoleConnection connection, IReadOnlyList<string> words, ResponseRenderer renderer, TextWriter error,
        CancellationToken cancel)
    {
        var palettes = connection.Welcome.Palettes;
        if (words[0] is "help" or "--help")
        {
            if (words.Count > 1 && palettes.All(p => !p.ModuleName.Equals(words[1], StringComparison.OrdinalIgnoreCase)))
            {
                error.WriteLine($"error: unknown palette '{words[1]}'; palettes: {string.Join(", ", palettes.Select(p => p.ModuleName))}");
                return ExitCodes.Usage;
            }
            renderer.Help(palettes, words.Count > 1 ? words[1] : null);
            return ExitCodes.Ok;
        }
        var final = await connection.InvokeAsync(words, renderer.Render, cancel);
        return final.Error switch
        {
            ResponseError.Usage => ExitCodes.Usage,
            ResponseError.Failed or ResponseError.Refused => ExitCodes.Failed,
            _ => ExitCodes.Ok,
        };
    }

    private static async Task<int> PromptAsync(ConsoleConnection connection, string address, ResponseRenderer renderer, TextWriter error,
        Interrupt interrupt, TextReader? input)
    {
        var palettes = connection.Welcome.Palettes;
        var completion = new Completion(palettes);
        var editor = input is null ? new LineEditor(completion, arg => SessionIds(connection, arg)) : null;
        renderer.Line($"fusionctl connected to {connection.Welcome.Node} ({address})");
        renderer.Line($"palettes: {string.Join(", ", palettes.Select(p => p.ModuleName))}; 'help [PALETTE]', Tab completes, Ctrl+C stops a command, 'exit' quits");
        var last = ExitCodes.Ok;
        while (true)
        {
            var line = editor is not null ? editor.ReadLine("fusion> ") : await input!.ReadLineAsync();
            if (line is null) return last;
            var words = CommandWords.Split(line);
            if (words.Count == 0) continue;
            if (words[0] is "exit" or "quit") return last;
            last = await RunOneAsync(connection, words, renderer, error, interrupt.Renew());
        }
    }

    /// <summary>Session ids for completing a session argument: asks the node (sessions list) when Tab is pressed there.</summary>
    private static IEnumerable<string> SessionIds(ConsoleConnection connection, CommandArgument argument)
    {
        if (argument.Name is not ("session" or "id")) return [];
        var ids = new List<string>();
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            connection.InvokeAsync(["sessions", "list"], r =>
            {
                if (r.Data is JsonArray sessions)
                    ids.AddRange(sessions.Select(n => n?["sessionId"]?.GetValue<string>()).OfType<string>());
            }, quick.Token).GetAwaiter().GetResult();
        }
        catch (Exception) { /* no completion then */ }
        return ids;
    }

    /// <summary>HOST, HOST:PORT or [IPv6]:PORT; the port defaults to 9110.</summary>
    public static bool TryParseHost(string text, out string host, out int port)
    {
        host = text.Trim();
        port = DefaultPort;
        string? portText = null;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']');
            if (close < 0) return false;
            if (close + 1 < host.Length)
            {
                if (host[close + 1] != ':') return false;
                portText = host[(close + 2)..];
            }
            host = host[1..close];
        }
        else if (host.Count(c => c == ':') == 1)
        {
            var colon = host.IndexOf(':');
            portText = host[(colon + 1)..];
            host = host[..colon];
        }
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)) return false;
        return host.Length > 0;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    private static bool IsOn(string? value) => value?.Trim().ToLowerInvariant() is "1" or "true" or "on" or "yes";

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
