using System.Text.Json.Nodes;
using Akka.Actor;
using Xunit;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Fusionctl.Tests;

/// <summary>A real node over its own copy of the committed models.json, with a console token.</summary>
public sealed class ModelsNode : ConsoleNode
{
    public const string Secret = "models-token";

    public string Dir { get; } = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "fusion-models-ctl-" + Guid.NewGuid().ToString("N"))).FullName;

    public string CatalogPath => Path.Combine(Dir, "models.json");

    protected override string? Token => Secret;

    protected override FusionOptions NodeOptions
    {
        get
        {
            WriteCatalog(audioVersion: "v1");
            return base.NodeOptions with { ModelsPath = CatalogPath };
        }
    }

    /// <summary>The committed catalog, files made absolute, audio-digits at <paramref name="audioVersion"/> and file <paramref name="audioFile"/>.</summary>
    public void WriteCatalog(string audioVersion, string? audioFile = null)
    {
        var committed = ModelCatalog.FindDefault();
        var root = JsonNode.Parse(File.ReadAllText(committed.Path))!;
        foreach (var m in root["models"]!.AsArray())
        {
            var name = (string)m!["name"]!;
            m["file"] = committed.Get(name).FilePath;
            if (name != "audio-digits") continue;
            m["version"] = audioVersion;
            if (audioFile is not null) m["file"] = audioFile;
        }
        File.WriteAllText(CatalogPath, root.ToJsonString());
    }

    public Task<CtlRun> Models(params string[] args) => Ctl(["--token", Secret, .. args]);

    /// <summary>The models named by the latest fused result of session <paramref name="id"/> once it has <paramref name="results"/>.</summary>
    public async Task<IReadOnlyList<string>> ResultModels(string id, long results)
    {
        IReadOnlyList<string> models = [];
        await Eventually(async () =>
        {
            var status = await Node.Sessions.Ask<SessionStatus>(new GetSessionStatus(id), Wait);
            if (status.Fusion is not { } f || f.Results < results || f.Recent.Count == 0) return false;
            models = f.Recent[^1].Models;
            return true;
        }, $"{results} results of {id}", TimeSpan.FromSeconds(60));
        return models;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

public sealed class ModelsPaletteSpec : IClassFixture<ModelsNode>
{
    private readonly ModelsNode _node;

    public ModelsPaletteSpec(ModelsNode node) => _node = node;

    [Fact]
    public async Task Models_list_and_reload_are_for_operators_only()
    {
        foreach (var command in new[] { "list", "reload" })
        {
            var run = await _node.Ctl("models", command);
            Assert.True(run.ExitCode == 3, run.ToString());
            Assert.Contains("requires a token", run.Error);
        }
    }

    [Fact]
    public async Task A_reload_swaps_a_new_version_in_for_new_and_running_sessions_closes_the_old_one_and_reports_what_failed()
    {
        var image = ModelCatalog.FindDefault().Get("image-digits").Version;
        _node.WriteCatalog("v1");
        Assert.Equal(0, (await _node.Models("models", "reload")).ExitCode);
        var list = await _node.Models("--json", "models", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        var rows = list.Json["models"]!.AsArray();
        Assert.Equal("v1", rows.Single(r => (string)r!["name"]! == "audio-digits")!["version"]!.GetValue<string>());
        Assert.Equal("audio", rows.Single(r => (string)r!["name"]! == "audio-digits")!["modality"]!.GetValue<string>());
        Assert.Equal(image, rows.Single(r => (string)r!["name"]! == "image-digits")!["version"]!.GetValue<string>());
        Assert.Contains("audio-digits.onnx", (await _node.Models("models", "list")).Output);

        await _node.OpenSession("models-old");
        _node.SendWindows("models-old", 0, 2);
        Assert.Equal(["audio-digits@v1", $"image-digits@{image}"], await _node.ResultModels("models-old", 1));

        _node.WriteCatalog("v2");
        var reload = await _node.Models("models", "reload");
        Assert.True(reload.ExitCode == 0, reload.ToString());
        Assert.Contains("1 changed, 0 failed", reload.Output);

        await _node.OpenSession("models-new");
        _node.SendWindows("models-new", 0, 2);
        Assert.Equal(["audio-digits@v2", $"image-digits@{image}"], await _node.ResultModels("models-new", 1));
        // The running session moves to v2 at its next batch; v1 then has no stream left and is closed.
        _node.SendWindows("models-old", 2, 4);
        Assert.Equal("audio-digits@v2", (await _node.ResultModels("models-old", 3))[0]);
        var listed = await _node.Models("--json", "models", "list");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Empty(listed.Json["retiring"]!.AsArray());
        Assert.True(listed.Json["freedEncoders"]!.GetValue<long>() >= 1, listed.ToString());
        var audioRow = listed.Json["models"]!.AsArray().Single(r => (string)r!["name"]! == "audio-digits")!;
        Assert.Equal(2, audioRow["streams"]!.GetValue<int>()); // the audio streams of models-old and models-new

        // A version whose file does not load: the command fails naming it, v2 keeps serving new sessions.
        File.WriteAllText(Path.Combine(_node.Dir, "broken.onnx"), "not a graph");
        _node.WriteCatalog("v3", Path.Combine(_node.Dir, "broken.onnx"));
        long failures = 0;
        using (var listener = new System.Diagnostics.Metrics.MeterListener())
        {
            listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == FusionActors.Runtime.Metrics.FusionMetrics.MeterName && i.Name == "fusion.models.reloads") l.EnableMeasurementEvents(i);
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? model = null, outcome = null;
                foreach (var t in tags)
                    if (t.Key == "model") model = t.Value as string;
                    else if (t.Key == "outcome") outcome = t.Value as string;
                if (model == "audio-digits" && outcome == "failed") Interlocked.Add(ref failures, value);
            });
            listener.Start();
            var failed = await _node.Models("models", "reload");
            Assert.True(failed.ExitCode != 0, failed.ToString());
            Assert.Contains("audio-digits v3", failed.ToString());
        }
        // Counted before the answer went out.
        Assert.Equal(1, Interlocked.Read(ref failures));
        await _node.OpenSession("models-after-failure");
        _node.SendWindows("models-after-failure", 0, 2);
        Assert.Equal("audio-digits@v2", (await _node.ResultModels("models-after-failure", 1))[0]);

        // A file that does not parse changes nothing.
        File.WriteAllText(_node.CatalogPath, "{\"models\": [");
        var refused = await _node.Models("models", "reload");
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("nothing changed", refused.ToString());
        _node.WriteCatalog("v2");
        var after = await _node.Models("--json", "models", "list");
        Assert.Equal("v2", after.Json["models"]!.AsArray().Single(r => (string)r!["name"]! == "audio-digits")!["version"]!.GetValue<string>());
    }
}
