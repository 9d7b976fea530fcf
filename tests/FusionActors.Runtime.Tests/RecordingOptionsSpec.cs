using Microsoft.Extensions.Configuration;
using Xunit;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Runtime.Tests;

/// <summary>Fusion:Recording through the node's options binding: off by default, HOCON aliases, the section with its keys, and bad values named.</summary>
public sealed class RecordingOptionsSpec
{
    [Fact]
    public void Recording_is_off_by_default()
    {
        var o = FusionOptions.FromHocon(FusionConfig.DefaultsText);
        Assert.False(o.Recording.Enabled);
        Assert.Empty(o.Recording.Sessions);
        Assert.Null(o.Recording.KeyId);
        Assert.Equal((TimeSpan.FromDays(7), 10L << 30), (o.Recording.MaxAge, o.Recording.MaxTotalBytes));
    }

    [Fact]
    public void The_hocon_aliases_set_the_directory_rule_and_retention()
    {
        var o = FusionOptions.FromHocon(FusionConfig.DefaultsText + """

            fusion.recording { directory = "/var/lib/fusion/recordings", sessions = ["audit-*", "s-42"], max-age = 2d, max-total-bytes = 1000000, retention-interval = 10s }
            """);
        Assert.Equal("/var/lib/fusion/recordings", o.Recording.Directory);
        Assert.Equal(["audit-*", "s-42"], o.Recording.Sessions);
        Assert.Equal((TimeSpan.FromDays(2), 1_000_000L, TimeSpan.FromSeconds(10)), (o.Recording.MaxAge, o.Recording.MaxTotalBytes, o.Recording.RetentionInterval));
        Assert.True(o.Recording.Chooses("audit-7"));
        Assert.True(o.Recording.Chooses("s-42"));
        Assert.False(o.Recording.Chooses("s-420"));
    }

    [Fact]
    public void A_recording_key_from_the_environment_reaches_the_options_of_the_command_line_programs()
    {
        // The demo and the other programs bind from HOCON and the environment, not from an application's configuration:
        // a key that only the Fusion__* form can carry (keys by id have no FUSION_* alias) must reach them too. A key
        // for reading only (no KeyId), valid, under a name no other spec uses: harmless to specs running meanwhile.
        const string name = "Fusion__Recording__Keys__env-spec-key";
        var key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        Environment.SetEnvironmentVariable(name, key);
        try
        {
            var o = FusionOptions.FromHocon(FusionConfig.DefaultsText);
            Assert.Equal(key, o.Recording.Keys["env-spec-key"]);
            Assert.Null(o.Recording.KeyId);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
        Assert.False(FusionOptions.FromHocon(FusionConfig.DefaultsText).Recording.Keys.ContainsKey("env-spec-key"));
    }

    [Fact]
    public void The_section_sets_keys_by_id_as_the_environment_would()
    {
        var key = Convert.ToBase64String(new byte[32]);
        var o = FusionOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fusion:Recording:Directory"] = "rec", ["Fusion:Recording:Sessions"] = "*", ["Fusion:Recording:KeyId"] = "k2",
            ["Fusion:Recording:Keys:k1"] = key, ["Fusion:Recording:Keys:k2"] = key,
        }).Build());
        Assert.Equal(["*"], o.Recording.Sessions);
        var keys = o.Recording.LoadKeys();
        Assert.Equal("k2", keys.CurrentId);
        Assert.Equal(["k1", "k2"], keys.Ids.Order());
        var e = Assert.Throws<InvalidOperationException>(() => FusionOptions.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Fusion:Recording:Dir"] = "rec" }).Build()));
        Assert.Contains("Fusion:Recording", e.Message);
    }

    [Theory]
    [InlineData("fusion.recording.max-age = 0s", "Fusion:Recording:MaxAge")]
    [InlineData("fusion.recording.max-total-bytes = 0", "Fusion:Recording:MaxTotalBytes")]
    [InlineData("fusion.recording.max-queued-records = 0", "Fusion:Recording:MaxQueuedRecords")]
    [InlineData("fusion.recording.key-id = missing", "not among the keys")]
    public void A_bad_value_is_refused_naming_its_key(string hocon, string expected)
    {
        var e = Assert.Throws<FormatException>(() => FusionOptions.FromHocon(FusionConfig.DefaultsText + "\n" + hocon + "\n"));
        Assert.Contains(expected, e.Message);
    }
}
