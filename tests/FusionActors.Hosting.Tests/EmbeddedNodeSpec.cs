using Akka.Actor;
using Akka.Hosting;
using FusionActors.Client;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.OperatorConsole;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;
using FusionActors.Runtime.Tests;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Hosting.Tests;

/// <summary>
/// A node embedded in a host the test builds (Akka.Hosting.TestKit's): the server's services from an in-memory
/// configuration, its actor system composed on the TestKit's builder. A sensor client opens a session through the
/// real gateway over remoting and gets the fused result of a window of frames.
/// </summary>
public sealed class EmbeddedNodeSpec(ITestOutputHelper output)
    : Akka.Hosting.TestKit.TestKit(FusionServerExtensions.ActorSystemName, output, TimeSpan.FromSeconds(30))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly int _port = FreePort();

    protected override void ConfigureAppConfiguration(HostBuilderContext context, IConfigurationBuilder builder) =>
        builder.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fusion:Node:Port"] = _port.ToString(),
            ["Fusion:Security:SessionTokens:0"] = "embedded-token",
            ["Fusion:Console:Port"] = "0",
            ["Fusion:Console:FailIfPortTaken"] = "true",
            ["Fusion:Limits:MaxSessions"] = "10",
        });

    protected override void ConfigureHostBuilder(IHostBuilder builder) =>
        builder.ConfigureServices((context, services) => services.AddFusionServices(context.Configuration));

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider) => builder.WithFusionServer(provider);

    [Fact]
    public async Task A_session_opened_through_the_gateway_of_an_embedded_node_fuses_a_window_of_frames()
    {
        var options = Host.Services.GetRequiredService<IOptions<FusionOptions>>().Value;
        Assert.Equal(_port, options.Port);
        Assert.Equal(["embedded-token"], options.SessionTokens);
        Assert.Equal(10, options.Limits.MaxSessions);
        Assert.IsType<RegistryEncoderProvider>(Host.Services.GetRequiredService<IEncoderProvider>());
        // The console is a hosted service of the same host.
        Assert.NotNull(Host.Services.GetRequiredService<OperatorConsoleService>().Console);

        await using var client = await FusionClient.ConnectAsync(new FusionClientOptions
        {
            Contacts = [$"127.0.0.1:{_port}"], Token = "embedded-token", RequestTimeout = Wait,
        });
        await using var session = await client.OpenSessionAsync(Spec("embedded-1"), TestContext.Current.CancellationToken);
        // Windows of frames as a sensor sends them; the later ones close the earlier (event time), the end closes the last.
        for (var w = 0; w < 3; w++) await PushWindow(session, w);
        await session.CompleteAsync(Wait, TestContext.Current.CancellationToken);

        var results = await Collect(session, 3, Wait);
        Assert.Equal([0L, 1_000_000L, 2_000_000L], results.Select(r => r.WindowStartUs));
        for (var w = 0; w < 3; w++)
        {
            Assert.Equal(FusedStatus.Fused, results[w].Status);
            Assert.Equal(Sample[w].Label, results[w].TopClass);
        }
    }
}

