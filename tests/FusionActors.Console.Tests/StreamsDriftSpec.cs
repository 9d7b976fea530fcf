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
}
