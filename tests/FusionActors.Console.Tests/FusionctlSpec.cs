using System.Text.Json.Nodes;
using Akka.Actor;
using Xunit;

namespace FusionActors.Fusionctl.Tests;

/// <summary>fusionctl against a real node over TCP: sessions, streams, fusion, watch, chaos, metrics, errors.</summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class FusionctlSpec(ConsoleNode node)
{
    [Fact]
    public async Task Sessions_list_shows_an_open_session_and_sessions_show_its_streams()
    {
        await node.OpenSession("ctl-list");

        var list = await node.Ctl("sessions", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("ctl-list", list.Output);
        Assert.Contains("audio:Active", list.Output);

        var json = await node.Ctl("--json", "sessions", "list");
        Assert.True(json.ExitCode == 0, json.ToString());
        var session = json.Json.AsArray().Single(s => s!["sessionId"]!.GetValue<string>() == "ctl-list")!;
        Assert.Equal("adaptive", session["policy"]!.GetValue<string>());

        var show = await node.Ctl("sessions", "show", "ctl-list");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("session ctl-list: policy adaptive", show.Output);
        Assert.Contains("camera", show.Output);
        Assert.Contains("image", show.Output);
    }

    [Fact]
    public async Task Sessions_list_shows_a_page_at_a_time_and_names_the_next_one()
    {
        await node.OpenSession("ctl-page-a");
        await node.OpenSession("ctl-page-b");

        var first = await node.Ctl("sessions", "list", "1", "ctl-page");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("ctl-page-a", first.Output);
        Assert.DoesNotContain("ctl-page-b", first.Output.Replace("sessions list 1 ctl-page-a", ""));
        Assert.Contains("more sessions: sessions list 1 ctl-page-a", first.Output);

        var next = await node.Ctl("--json", "sessions", "list", "1", "ctl-page-a");
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal("ctl-page-b", next.Json.AsArray().Single()!["sessionId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_hibernated_session_is_listed_and_shown_without_waking_and_a_command_wakes_it()
    {
        await node.OpenSession("ctl-sleep");
        var slept = await node.Node.Sessions.Ask<FusionActors.Runtime.Sessions.HibernateResult>(
            new FusionActors.Runtime.Sessions.HibernateSession("ctl-sleep"), ConsoleNode.Wait);
        Assert.True(slept.Hibernated, slept.Reason);

        var show = await node.Ctl("sessions", "show", "ctl-sleep");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("session ctl-sleep: policy adaptive", show.Output);
        var streams = await node.Ctl("streams", "show", "ctl-sleep");
        Assert.True(streams.ExitCode == 0, streams.ToString());
        Assert.Contains("camera", streams.Output);
        var list = await node.Ctl("--json", "sessions", "list", "1", "ctl-slee");
        Assert.Equal("ctl-sleep", list.Json.AsArray().Single()!["sessionId"]!.GetValue<string>());
        // Still asleep after all that: status is answered from the children's state.
        var again = await node.Node.Sessions.Ask<FusionActors.Runtime.Sessions.HibernateResult>(
            new FusionActors.Runtime.Sessions.HibernateSession("ctl-sleep"), ConsoleNode.Wait);
        Assert.Equal("already hibernated", again.Reason);

        // A command wakes it and is carried out.
        var policy = await node.Ctl("fusion", "policy", "ctl-sleep", "single:audio");
        Assert.True(policy.ExitCode == 0, policy.ToString());
        Assert.Contains("policy single:audio", (await node.Ctl("sessions", "show", "ctl-sleep")).Output);
    }

    [Fact]
    public async Task A_session_that_was_never_opened_is_not_listed_and_show_fails_with_exit_code_1()
    {
        var show = await node.Ctl("sessions", "show", "never-opened");
        Assert.Equal(1, show.ExitCode);
        Assert.Contains("session 'never-opened' is not open", show.Error);

        var list = await node.Ctl("--json", "sessions", "list");
        Assert.DoesNotContain("never-opened", list.Output);
    }

    [Fact]
    public async Task A_crashed_encoder_is_watched_going_Restarting_and_back_to_Active()
    {
        await node.OpenSession("ctl-crash");
        node.SendWindows("ctl-crash", 0, 1);

        using var stopWatching = new CancellationTokenSource(ConsoleNode.Wait * 2);
        var watchOut = new SyncStringWriter();
        var watching = node.Ctl(["--json", "watch", "ctl-crash"], stopWatching.Token, watchOut);
        await ConsoleNode.Eventually(() => Task.FromResult(watchOut.ToString().Contains("\"kind\":\"subscribed\"")), "the watch to subscribe");

        var crash = await node.Ctl("chaos", "crash-encoder", "ctl-crash", "camera");
        Assert.True(crash.ExitCode == 0, crash.ToString());
        Assert.Contains("will crash its encoder", crash.Output);
        node.SendWindows("ctl-crash", 1, 3);

        bool Saw(string to) => watchOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)
            .Any(e => e["kind"]?.GetValue<string>() == "state" && e["streamId"]?.GetValue<string>() == "camera" && e["to"]?.GetValue<string>() == to);
        await ConsoleNode.Eventually(() => Task.FromResult(Saw("Restarting")), "camera to go Restarting");
        await ConsoleNode.Eventually(() => Task.FromResult(Saw("Active")), "camera to come back Active");
        await stopWatching.CancelAsync();
        var watch = await watching;
        Assert.True(watch.ExitCode == 0, watch.ToString());

        var streams = await node.Ctl("--json", "streams", "show", "ctl-crash");
        Assert.True(streams.ExitCode == 0, streams.ToString());
        var camera = streams.Json["streams"]!.AsArray().Single(s => s!["streamId"]!.GetValue<string>() == "camera")!;
        Assert.Equal("Active", camera["state"]!.GetValue<string>());
        Assert.True(camera["counters"]!["encoderRestarts"]!.GetValue<long>() >= 1, streams.Output);

        var table = await node.Ctl("streams", "show", "ctl-crash");
        Assert.Contains("Active", table.Output);
    }

    [Fact]
    public async Task Fusion_policy_changes_the_policy_of_a_running_session_and_refuses_a_modality_it_lacks()
    {
        await node.OpenSession("ctl-policy");

        var set = await node.Ctl("fusion", "policy", "ctl-policy", "single:audio");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("policy adaptive -> single:audio", set.Output);
        var show = await node.Ctl("--json", "sessions", "show", "ctl-policy");
        Assert.Equal("single:audio", show.Json["fusion"]!["policy"]!.GetValue<string>());

        var lidar = await node.Ctl("fusion", "policy", "ctl-policy", "single:lidar");
        Assert.Equal(1, lidar.ExitCode);
        Assert.Contains("no stream has modality 'lidar'", lidar.Error);

        var weights = await node.Ctl("fusion", "weights", "ctl-policy");
        Assert.True(weights.ExitCode == 0, weights.ToString());
        Assert.Contains("policy single:audio", weights.Output);
    }

    [Theory]
    [InlineData("unknown command 'frobnicate'", "frobnicate")]
    [InlineData("'sessions' needs a command: list, show, kill, record", "sessions")]
    [InlineData("unknown command 'sessions frob'", "sessions", "frob")]
    [InlineData("missing argument ID", "sessions", "show")]
    [InlineData("too many arguments", "sessions", "list", "5", "after", "extra")]
    [InlineData("bad argument LIMIT: 'all' is not an integer", "sessions", "list", "all")]
    [InlineData("bad argument POLICY: 'bogus' is not one of adaptive, fixed, single:", "fusion", "policy", "s", "bogus")]
    [InlineData("bad argument SECONDS: 'soon' is not a number", "chaos", "drop", "s", "audio", "soon")]
    [InlineData("bad argument LIMIT: 'all' is not an integer", "watch", "s", "all")]
    [InlineData("unrecognized", "sessions", "list", "--bogus-option")]
    public async Task Bad_commands_and_bad_arguments_give_a_clear_message_and_exit_code_2(string message, params string[] args)
    {
        var run = await node.Ctl(args);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Commands_on_a_stream_the_session_lacks_fail_with_the_streams_it_has()
    {
        await node.OpenSession("ctl-streams");
        var run = await node.Ctl("streams", "disable", "ctl-streams", "lidar");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("has no stream 'lidar'; its streams: audio, camera", run.Error);
    }

    [Fact]
    public async Task Disable_and_enable_take_a_stream_out_and_put_it_back()
    {
        await node.OpenSession("ctl-disable");
        var disable = await node.Ctl("streams", "disable", "ctl-disable", "camera");
        Assert.True(disable.ExitCode == 0, disable.ToString());
        await ConsoleNode.Eventually(async () => (await node.Ctl("--json", "streams", "show", "ctl-disable")).Output.Contains("\"state\":\"Failed\""),
            "camera to be Failed (disabled)");
        var enable = await node.Ctl("streams", "enable", "ctl-disable", "camera");
        Assert.True(enable.ExitCode == 0, enable.ToString());
        var drop = await node.Ctl("chaos", "drop", "ctl-disable", "audio", "0.5");
        Assert.True(drop.ExitCode == 0, drop.ToString());
        Assert.Contains("drops frames", drop.Output);
    }

    [Fact]
    public async Task Sessions_record_turns_a_sessions_recording_on_and_off()
    {
        await node.OpenSession("ctl-rec");
        var on = await node.Ctl("sessions", "record", "ctl-rec", "on");
        Assert.True(on.ExitCode == 0, on.ToString());
        Assert.Contains("session ctl-rec records to", on.Output);
        var off = await node.Ctl("--json", "sessions", "record", "ctl-rec", "off");
        Assert.True(off.ExitCode == 0, off.ToString());
        Assert.False(off.Json["recording"]!.GetValue<bool>());
        var file = Assert.Single(Directory.GetFiles(node.RecordingDirectory, "ctl-rec-*"));
        // The node's writer thread writes it a moment later (until then the file may not even hold its header).
        await ConsoleNode.Eventually(() =>
        {
            try { return Task.FromResult(FusionActors.Runtime.Recording.RecordingReader.Read(file).Records.LastOrDefault() is FusionActors.Runtime.Recording.RecordedEnd); }
            catch (FusionActors.Runtime.Recording.RecordingFormatException) { return Task.FromResult(false); }
        }, "the recording to end");
        var bad = await node.Ctl("sessions", "record", "ctl-rec", "maybe");
        Assert.Equal(2, bad.ExitCode);
        var unknown = await node.Ctl("sessions", "record", "ctl-nowhere", "on");
        Assert.Equal(1, unknown.ExitCode);
    }

    [Fact]
    public async Task Sessions_kill_closes_a_session()
    {
        await node.OpenSession("ctl-kill");
        var kill = await node.Ctl("sessions", "kill", "ctl-kill");
        Assert.True(kill.ExitCode == 0, kill.ToString());
        await ConsoleNode.Eventually(async () => (await node.Ctl("sessions", "show", "ctl-kill")).ExitCode == 1, "the session to be closed");
    }

    [Fact]
    public async Task Cluster_show_lists_this_node_as_an_Up_leader()
    {
        var run = await node.Ctl("--json", "cluster", "show");
        Assert.True(run.ExitCode == 0, run.ToString());
        var member = run.Json["members"]!.AsArray().Single()!;
        Assert.Equal("Up", member["status"]!.GetValue<string>());
        Assert.Equal(run.Json["self"]!.GetValue<string>(), run.Json["leader"]!.GetValue<string>());

        var bad = await node.Ctl("cluster", "down", "akka.tcp://fusion@10.9.9.9:1");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("is not a member", bad.Error);
    }

    [Fact]
    public async Task Help_lists_the_palettes_the_node_serves()
    {
        var run = await node.Ctl("help");
        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var palette in new[] { "cluster", "sessions", "streams", "fusion", "watch", "chaos", "metrics", "models" })
            Assert.Contains(palette, run.Output);
    }

    [Fact]
    public async Task The_interactive_prompt_runs_each_line_until_exit()
    {
        await node.OpenSession("ctl-prompt");
        var output = new SyncStringWriter();
        var error = new SyncStringWriter();
        var code = await FusionCtl.RunAsync(["--host", $"127.0.0.1:{node.Port}"], output, error, CancellationToken.None,
            new StringReader("sessions show ctl-prompt\nfrobnicate\nexit\nsessions list\n"));
        Assert.Equal(2, code); // the last command before exit was a usage error
        Assert.Contains("palettes: cluster, sessions", output.ToString());
        Assert.Contains("session ctl-prompt: policy adaptive", output.ToString());
        Assert.Contains("unknown command 'frobnicate'", error.ToString());
    }
}
