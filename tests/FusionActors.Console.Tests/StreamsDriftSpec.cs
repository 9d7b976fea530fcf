using Xunit;

namespace FusionActors.Fusionctl.Tests;

/// <summary><c>fusionctl streams show</c> shows each stream's input drift, scored by the real encoders on a real node.</summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class StreamsDriftSpec(ConsoleNode node)
{
    [Fact]
    public async Task Streams_show_gives_the_input_drift_of_every_stream_in_the_table_and_as_json()
    {
        await node.OpenSession("ctl-drift");
        node.SendWindows("ctl-drift", 0, 4);
        await ConsoleNode.Eventually(async () =>
        {
            var json = (await node.Ctl("--json", "streams", "show", "ctl-drift")).Json;
            return json["streams"]!.AsArray().All(s => s!["drift"]?["scored"]?.GetValue<long>() > 0);
        }, "both streams to score inputs");

        var show = await node.Ctl("--json", "streams", "show", "ctl-drift");
        Assert.True(show.ExitCode == 0, show.ToString());
        foreach (var stream in show.Json["streams"]!.AsArray())
        {
            var drift = stream!["drift"]!;
            Assert.True(drift["mean"]!.GetValue<double>() >= 0, show.Output);
            Assert.True(drift["window"]!.GetValue<int>() is > 0 and <= 50, show.Output);
            Assert.Equal(1.0, drift["threshold"]!.GetValue<double>());
            Assert.False(drift["alerting"]!.GetValue<bool>(), show.Output); // a few in-distribution windows: no alert
        }

        var table = await node.Ctl("streams", "show", "ctl-drift");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("input drift", table.Output);
        Assert.Matches(@"\d\.\d\d of \d+ \(last \d\.\d\d\)", table.Output);
    }

    [Fact]
    public async Task Streams_show_gives_the_repeat_cache_hits_of_a_camera_that_holds_each_digit_for_ten_frames()
    {
        await node.OpenSession("ctl-repeat");
        node.SendWindows("ctl-repeat", 0, 4);
        // Each window's ten camera frames are one image: the frames after the first of a window can be served by the cache.
        await ConsoleNode.Eventually(async () =>
        {
            var json = (await node.Ctl("--json", "streams", "show", "ctl-repeat")).Json;
            return json["streams"]!.AsArray().Single(s => (string?)s!["streamId"] == "camera")!["counters"]!["cacheHits"]!.GetValue<long>() > 0;
        }, "the camera's repeat cache to serve an input");

        var show = await node.Ctl("--json", "streams", "show", "ctl-repeat");
        var counters = show.Json["streams"]!.AsArray().Single(s => (string?)s!["streamId"] == "camera")!["counters"]!;
        var (hits, misses) = (counters["cacheHits"]!.GetValue<long>(), counters["cacheMisses"]!.GetValue<long>());
        Assert.True(hits + misses <= 40 && misses >= 4, show.Output); // one miss per digit at least
        var table = await node.Ctl("streams", "show", "ctl-repeat");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("repeat hits", table.Output);
        Assert.Matches(@"\d+ \(\d+(\.\d)? %\)", table.Output);
    }
}
