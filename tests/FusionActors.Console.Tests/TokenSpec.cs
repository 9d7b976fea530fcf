using Xunit;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Fusionctl.Tests;

/// <summary>A node with a console token refuses clients without it.</summary>
public sealed class TokenSpec(TokenNode node) : IClassFixture<TokenNode>
{
    [Fact]
    public async Task A_wrong_token_is_refused_with_exit_code_3()
    {
        var run = await node.Ctl("--token", "guess", "sessions", "list");
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("refused the connection: invalid token", run.Error);
    }

    [Fact]
    public async Task No_token_is_refused_with_exit_code_3()
    {
        var run = await node.Ctl("sessions", "list");
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("requires a token", run.Error);
    }

    [Fact]
    public async Task The_right_token_is_let_in()
    {
        var run = await node.Ctl("--token", "s3cret-token", "sessions", "list");
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void A_console_bound_beyond_loopback_without_a_token_does_not_start()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            ConsoleHost.Start(new ConsoleOptions { Hostname = "0.0.0.0", Port = 0 }, null!, [], "node", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        Assert.Contains("not loopback", e.Message);
    }
}
