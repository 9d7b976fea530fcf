using System.Net;
using Akka.Configuration;

namespace FusionActors.OperatorConsole;

/// <summary>The operator console host of a node (<c>fusion.console</c> in config/fusion.hocon).</summary>
public sealed record ConsoleOptions
{
    public const string TokenVariable = "FUSION_CONSOLE_TOKEN";

    /// <summary>Serve the console at all. Default on.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Address the listener binds to. Default 127.0.0.1 (loopback only).</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 = any free port (tests). Default 9110.</summary>
    public int Port { get; init; } = 9110;

    /// <summary>Shared secret clients must present; required when not bound to loopback. Default none (or FUSION_CONSOLE_TOKEN).</summary>
    public string? Token { get; init; }

    /// <summary>A port that is taken makes the node fail to start (on) or run without a console, with a warning (off). Default off.</summary>
    public bool FailIfPortTaken { get; init; }

    public bool IsLoopback => Hostname is "localhost" || (IPAddress.TryParse(Hostname, out var ip) && IPAddress.IsLoopback(ip));

    public static ConsoleOptions FromConfig(Config fusion)
    {
        var token = Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } t ? t : fusion.GetString("console.token", "");
        return new ConsoleOptions
        {
            Enabled = fusion.GetBoolean("console.enabled", true),
            Hostname = fusion.GetString("console.hostname", "127.0.0.1"),
            Port = Environment.GetEnvironmentVariable("FUSION_CONSOLE_PORT") is { Length: > 0 } p
                ? int.TryParse(p, out var n) && n is >= 0 and <= 65535 ? n : throw new FormatException($"FUSION_CONSOLE_PORT='{p}' is not a port number")
                : fusion.GetInt("console.port", 9110),
            Token = string.IsNullOrEmpty(token) ? null : token,
            FailIfPortTaken = fusion.GetBoolean("console.fail-if-port-taken", false),
        };
    }
}
