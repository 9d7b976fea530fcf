using Microsoft.Extensions.Configuration;
using Xunit;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Runtime.Tests;

/// <summary>The batcher's and the pending-input cap's options through the node's options binding: HOCON aliases, the configuration section, and values out of range named.</summary>
public sealed class BatchingOptionsSpec
{
    [Fact]
    public void The_defaults_are_on_32_inputs_2_ms_and_a_cap_of_20000_pending_inputs()
    {
        var o = FusionOptions.FromHocon(FusionConfig.DefaultsText);
        Assert.Equal((true, 32, TimeSpan.FromMilliseconds(2), 32, 2), (o.Batching.Enabled, o.Batching.MaxBatch, o.Batching.MaxQueueDelay, o.Batching.MaxInFlightPerSession, o.Batching.Threads));
        Assert.Equal(20_000, o.Limits.MaxPendingEncoderInputs);
    }

    [Fact]
    public void The_hocon_aliases_set_them()
    {
        var o = FusionOptions.FromHocon(FusionConfig.DefaultsText + """

            fusion.encoder.batching { enabled = off, max-batch = 64, max-queue-delay = 5ms, max-in-flight-per-session = 8, threads = 3, max-stalled-threads = 1 }
            fusion.limits.max-pending-encoder-inputs = 500
            """);
        Assert.Equal((false, 64, TimeSpan.FromMilliseconds(5), 8, 3, 1),
            (o.Batching.Enabled, o.Batching.MaxBatch, o.Batching.MaxQueueDelay, o.Batching.MaxInFlightPerSession, o.Batching.Threads, o.Batching.MaxStalledThreads));
        Assert.Equal(500, o.Limits.MaxPendingEncoderInputs);
    }

    [Fact]
    public void The_configuration_section_sets_them_and_a_key_it_does_not_have_is_named()
    {
        var o = FusionOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fusion:Batching:MaxBatch"] = "16", ["Fusion:Batching:MaxQueueDelay"] = "00:00:00.001", ["Fusion:Limits:MaxPendingEncoderInputs"] = "7",
        }).Build());
        Assert.Equal((16, TimeSpan.FromMilliseconds(1), 7), (o.Batching.MaxBatch, o.Batching.MaxQueueDelay, o.Limits.MaxPendingEncoderInputs));
        var e = Assert.Throws<InvalidOperationException>(() => FusionOptions.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Fusion:Batching:MaxBatchSize"] = "16" }).Build()));
        Assert.Contains("Fusion:Batching", e.Message);
    }

    [Theory]
    [InlineData("fusion.encoder.batching.max-batch = 0", "Fusion:Batching:MaxBatch")]
    [InlineData("fusion.encoder.batching.max-batch = 100000", "Fusion:Batching:MaxBatch")]
    [InlineData("fusion.encoder.batching.max-queue-delay = 5s", "Fusion:Batching:MaxQueueDelay")]
    [InlineData("fusion.encoder.batching.threads = 0", "Fusion:Batching:Threads")]
    [InlineData("fusion.encoder.batching.max-in-flight-per-session = 0", "Fusion:Batching:MaxInFlightPerSession")]
    [InlineData("fusion.limits.max-pending-encoder-inputs = 0", "Fusion:Limits:MaxPendingEncoderInputs")]
    public void A_value_out_of_range_is_refused_naming_its_key(string hocon, string key)
    {
        var e = Assert.Throws<FormatException>(() => FusionOptions.FromHocon(FusionConfig.DefaultsText + "\n" + hocon + "\n"));
        Assert.Contains(key, e.Message);
    }
}
