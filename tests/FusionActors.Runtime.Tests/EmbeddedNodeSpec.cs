using Akka.Actor;
using FusionActors.Client;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.OperatorConsole;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>A node in a plain generic host, as an application embeds it: <c>builder.AddFusionServer()</c>.</summary>
public sealed class HostedNodeSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Configuration = new ConfigurationManager() });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddFusionServer();
        return builder;
    }

    [Fact]
    public async Task A_node_added_with_AddFusionServer_serves_sessions_and_leaves_through_the_host()
    {
        var port = FreePort();
        using var host = Builder(new()
        {
            ["Fusion:Node:Port"] = port.ToString(),
            ["Fusion:Security:SessionTokens"] = "a-token,another",
            ["Fusion:Console:Enabled"] = "false",
        }).Build();
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();
        Assert.Equal(["a-token", "another"], host.Services.GetRequiredService<IOptions<FusionOptions>>().Value.SessionTokens);

        await using (var session = await FusionClient.ConnectAsync(new FusionClientOptions
                     {
                         Contacts = [$"127.0.0.1:{port}"], Token = "another", RequestTimeout = Wait,
                     }).OpenSessionAsync(Spec("hosted-1")))
        {
            for (var w = 0; w < 2; w++) await PushWindow(session, w);
            await session.CompleteAsync(Wait);
            var results = await Collect(session, 2, Wait);
            Assert.All(results, r => Assert.Equal(FusedStatus.Fused, r.Status));
            Assert.Equal([Sample[0].Label, Sample[1].Label], results.Select(r => r.TopClass));
        }

        // Stopping the host runs the actor system's coordinated shutdown.
        await host.StopAsync(Wait);
        Assert.True(system.WhenTerminated.IsCompleted);
    }

    [Theory]
    [InlineData("Fusion:Node:Port", "70000")]
    [InlineData("Fusion:Node:Port", "not-a-port")]
    [InlineData("Fusion:Console:MaxConnections", "0")]
    [InlineData("Fusion:Encoder:EncodeDeadline", "00:00:00")]
    [InlineData("Fusion:Node:Seeds", "no-port-here")]
    public async Task An_invalid_option_fails_the_start_with_an_error_naming_its_key(string key, string value)
    {
        using var host = Builder(new() { [key] = value, ["Fusion:Console:Enabled"] = "false" }).Build();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public async Task An_unknown_key_in_a_section_fails_the_start_naming_it()
    {
        using var limits = Builder(new() { ["Fusion:Limits:MaxSesions"] = "5" }).Build();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => limits.StartAsync());
        Assert.Contains("Fusion:Limits", e.Message);
        Assert.Contains("MaxSesions", e.Message);

        using var node = Builder(new() { ["Fusion:Node:Prot"] = "4053" }).Build();
        e = await Assert.ThrowsAnyAsync<Exception>(() => node.StartAsync());
        Assert.Contains("Fusion:Node:Prot", e.Message);
    }

    [Fact]
    public async Task A_node_beyond_loopback_without_tokens_or_mutual_tls_fails_the_start_saying_what_to_set()
    {
        using var open = Builder(new() { ["Fusion:Node:Hostname"] = "10.20.30.40", ["Fusion:Console:Enabled"] = "false" }).Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => open.StartAsync());
        Assert.Contains("Fusion:Security:SessionTokens", e.Message);
        Assert.Contains("FUSION_SESSION_TOKENS", e.Message);

        using var plaintext = Builder(new()
        {
            ["Fusion:Node:Hostname"] = "10.20.30.40", ["Fusion:Security:SessionTokens"] = "t", ["Fusion:Console:Enabled"] = "false",
        }).Build();
        e = await Assert.ThrowsAsync<OptionsValidationException>(() => plaintext.StartAsync());
        Assert.Contains("Fusion:Security:AllowPlaintextRemoting", e.Message);
    }

    [Fact]
    public void The_fusion_keys_of_a_hocon_file_and_the_application_s_keys_layer_in_that_order()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fusion-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, """
            fusion.node { port = 4999, roles = ["fusion", "seed"] }
            fusion.sharding.passivate-idle-after = 10m
            fusion.limits.min-window-hop = 5ms
            """);
        try
        {
            var fromFile = FusionOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                [FusionConfiguration.ConfigFileKey] = file,
            }).Build());
            Assert.Equal(4999, fromFile.Port);
            Assert.Equal(["fusion", "seed"], fromFile.Roles);
            Assert.Equal(TimeSpan.FromMinutes(10), fromFile.PassivateIdleAfter);
            Assert.Equal(5_000, fromFile.Limits.MinWindowHopUs);

            var overridden = FusionOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                [FusionConfiguration.ConfigFileKey] = file,
                ["Fusion:Node:Port"] = "5000",
                ["Fusion:Node:Roles:0"] = "edge",
            }).Build());
            Assert.Equal(5000, overridden.Port);
            Assert.Equal(["edge"], overridden.Roles);
            Assert.Equal(TimeSpan.FromMinutes(10), overridden.PassivateIdleAfter);

            // Nothing configured: the defaults of the option types.
            var defaults = FusionOptions.FromConfiguration(new ConfigurationBuilder().Build());
            Assert.Equal(new FusionOptions().Roles, defaults.Roles);
            Assert.Equal(new Core.Supervision.BackoffPolicy(), defaults.Backoff);
            Assert.Equal(Core.Specs.SpecLimits.Default, defaults.Limits);
            Assert.Equal(new ConsoleOptions(), defaults.OperatorConsole);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
