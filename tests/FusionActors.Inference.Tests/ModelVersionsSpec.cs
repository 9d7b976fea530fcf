using System.Text.Json.Nodes;

namespace FusionActors.Inference.Tests;

/// <summary>models.json versions, and <see cref="ModelRegistry.Reload"/> against the committed image model.</summary>
public sealed class ModelVersionsSpec
{
    private static readonly ModelCatalog Committed = ModelCatalog.FindDefault();

    // The committed image-digits entry, its file made absolute, with another version (null: none declared) and file.
    private static string Catalog(params (string Name, string? Version, string? File)[] models)
    {
        var root = JsonNode.Parse(File.ReadAllText(Committed.Path))!;
        var image = root["models"]!.AsArray().First(m => (string)m!["name"]! == "image-digits")!;
        var list = new JsonArray();
        foreach (var (name, version, file) in models)
        {
            var entry = image.DeepClone();
            entry["name"] = name;
            entry["file"] = file ?? Committed.Get("image-digits").FilePath;
            entry.AsObject().Remove("version");
            if (version is not null) entry["version"] = version;
            list.Add(entry);
        }
        return new JsonObject { ["models"] = list }.ToJsonString();
    }

    private static ReadOnlyMemory<float>[] OneImage() => [new float[64]];

    [Fact]
    public void The_committed_catalog_must_declare_a_version_for_every_model()
    {
        Assert.All(Committed.Models, m => Assert.NotEqual("1", m.Version));
        Assert.All(Committed.Models, m => Assert.True(ModelSpec.IsValidVersion(m.Version), m.Version));
    }

    [Fact]
    public void A_model_without_a_version_must_load_as_version_1_and_its_encoder_tag_name_it()
    {
        using var dir = new TempDirectory();
        var catalog = ModelCatalog.Load(dir.Write("models.json", Catalog(("m", null, null))));
        Assert.Equal("1", catalog.Get("m").Version);
        using var registry = new ModelRegistry(catalog);
        Assert.Equal("m@1", registry.GetEncoder("m").Tag);
        Assert.Same(registry.GetEncoder("m").Tag, registry.GetEncoder("m").Tag);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"has space\"")]
    [InlineData("\"a/b\"")]
    [InlineData("\"12345678901234567890123456789012x\"")]
    [InlineData("3")]
    [InlineData("[\"1\"]")]
    public void A_bad_version_must_be_refused_naming_the_model_and_the_field(string version)
    {
        using var dir = new TempDirectory();
        var json = Catalog(("m", "PLACEHOLDER", null)).Replace("\"PLACEHOLDER\"", version);
        var e = Assert.Throws<InvalidDataException>(() => ModelCatalog.Load(dir.Write("models.json", json)));
        Assert.Contains("('m').version", e.Message);
    }

    [Fact]
    public void A_spec_refuses_a_bad_version_set_in_code()
    {
        var spec = Committed.Get("image-digits");
        Assert.Throws<ArgumentException>(() => spec with { Version = new string('9', ModelSpec.MaxVersionLength + 1) });
        Assert.Equal("7", (spec with { Version = "7" }).Version);
    }

    [Fact]
    public void A_reload_must_swap_a_new_version_in_and_leave_the_old_encoder_serving_its_holders()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(("m", "1", null), ("kept", "a", null)));
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var old = registry.GetEncoder("m");
        var kept = registry.GetEncoder("kept");

        dir.Write("models.json", Catalog(("m", "2", null), ("kept", "a", null), ("added", "1", null)));
        var report = registry.Reload();

        Assert.Equal(ModelReloadOutcome.Loaded, report.Single(r => r.Name == "m").Outcome);
        Assert.Equal(("1", "2"), (report.Single(r => r.Name == "m").OldVersion, report.Single(r => r.Name == "m").NewVersion));
        Assert.Equal(ModelReloadOutcome.Unchanged, report.Single(r => r.Name == "kept").Outcome);
        Assert.Equal(ModelReloadOutcome.Added, report.Single(r => r.Name == "added").Outcome);
        var current = registry.GetEncoder("m");
        Assert.NotSame(old, current);
        Assert.Equal(("m@1", "m@2"), (old.Tag, current.Tag));
        Assert.Same(kept, registry.GetEncoder("kept"));
        Assert.Equal(1, registry.RetiredEncoders);
        // A running session's encoder still encodes after the swap, like the new one.
        Assert.Equal(current.Encode(OneImage())[0].Logits, old.Encode(OneImage())[0].Logits);
    }

    [Fact]
    public void A_version_whose_file_does_not_load_must_keep_the_old_one_serving_and_say_why()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(("m", "1", null)));
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var old = registry.GetEncoder("m");
        dir.Write("broken.onnx", "not an onnx graph"u8.ToArray());
        dir.Write("models.json", Catalog(("m", "2", "broken.onnx"), ("fresh", "1", "missing.onnx")));

        var report = registry.Reload();

        var m = report.Single(r => r.Name == "m");
        Assert.Equal(ModelReloadOutcome.Failed, m.Outcome);
        Assert.False(string.IsNullOrEmpty(m.Error));
        Assert.Equal(ModelReloadOutcome.Failed, report.Single(r => r.Name == "fresh").Outcome);
        Assert.Contains("missing.onnx", report.Single(r => r.Name == "fresh").Error);
        Assert.Same(old, registry.GetEncoder("m"));
        Assert.Equal("1", registry.Catalog.Get("m").Version);
        Assert.False(registry.Catalog.TryGet("fresh", out _));
    }

    [Fact]
    public void A_catalog_that_does_not_parse_must_change_nothing()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(("m", "1", null), ("n", "1", null)));
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var before = registry.Catalog;
        dir.Write("models.json", Catalog(("m", "2", null), ("n", "bad version", null)));
        Assert.Throws<InvalidDataException>(registry.Reload);
        dir.Write("models.json", "{\"models\": [");
        Assert.Throws<InvalidDataException>(registry.Reload);
        Assert.Same(before, registry.Catalog);
    }

    [Fact]
    public void A_model_no_longer_listed_must_leave_the_catalog_and_its_encoder_stay_open()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(("m", "1", null), ("gone", "1", null)));
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var gone = registry.GetEncoder("gone");
        dir.Write("models.json", Catalog(("m", "1", null)));
        Assert.Equal(ModelReloadOutcome.Removed, registry.Reload().Single(r => r.Name == "gone").Outcome);
        Assert.Throws<KeyNotFoundException>(() => registry.GetEncoder("gone"));
        Assert.Single(gone.Encode(OneImage()));
    }
}
