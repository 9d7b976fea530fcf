using Akka.Actor;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>A node configured with session tokens refuses opens without a valid one, and the session stays closed.</summary>
public sealed class SessionTokenSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private FusionNode _node = null!;

    public async Task InitializeAsync() =>
        _node = await FusionNode.StartAsync(FusionOptions.FromHocon(
            FusionConfig.DefaultsText + "\nfusion.security.session-tokens = [\"s3cret\", \"other\"]\nfusion.console.enabled = off\n"));

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_missing_or_wrong_token_is_refused_and_a_valid_one_opens_the_session()
    {
        var missing = await _node.Sessions.Ask<object>(new OpenSession(Spec("tok-1"), 0), Wait);
        Assert.Contains("token is required", Assert.IsType<CommandRejected>(missing).Reason);

        var wrong = await _node.Sessions.Ask<object>(new OpenSession(Spec("tok-1"), 0, "guess"), Wait);
        Assert.Contains("not valid", Assert.IsType<CommandRejected>(wrong).Reason);

        var frame = await _node.Sessions.Ask<FrameRejected>(new Frame("tok-1", Audio, 0, 0, new float[320]), Wait);
        Assert.Equal(RejectReason.UnknownSession, frame.Reason);

        Assert.IsType<SessionOpened>(await _node.Sessions.Ask<object>(new OpenSession(Spec("tok-1"), 0, "other"), Wait));
    }
}
