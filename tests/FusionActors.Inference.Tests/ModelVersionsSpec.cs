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

    [Fact]
    public void A_retired_version_must_be_closed_when_its_last_counted_use_is_given_back()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(("m", "1", null)));
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var first = registry.Use("m")!;
        Assert.Same(first, registry.Use("m"));
        Assert.True(registry.TryUse(first));
        // The current version is never closed by its uses: three given back, it stays open.
        Assert.False(registry.Release(first));
        Assert.Equal(2, registry.Encoders.Single().Uses);

        var generation = registry.Generation;
        dir.Write("models.json", Catalog(("m", "2", null)));
        registry.Reload();
        Assert.Equal(generation + 1, registry.Generation);
        Assert.False(registry.IsCurrent(first));
        Assert.Equal([("1", false, 2), ("2", true, 0)], registry.Encoders.Select(e => (e.Version, e.Current, e.Uses)).OrderBy(e => e.Version));
        // A stream pinned to the retired version may still count a use of it.
        Assert.Same(first, registry.Use("m", "1"));
        Assert.False(registry.Release(first));
        Assert.False(registry.Release(first));
        Assert.False(first.IsDisposed);
        Assert.Single(first.Encode(OneImage()));
        Assert.True(registry.Release(first));
        Assert.True(first.IsReleased);
        Assert.Equal(1, registry.FreedEncoders);
        Assert.Equal(0, registry.RetiredEncoders);
        // Gone: no use can be counted, no pin can find it, and giving back more changes nothing.
        Assert.False(registry.TryUse(first));
        Assert.Null(registry.Use("m", "1"));
        Assert.False(registry.Release(first));
        Assert.Throws<ObjectDisposedException>(() => first.Encode(OneImage()));
    }

    [Fact]
    public void A_replaced_version_nobody_uses_must_be_closed_by_the_reload_and_one_held_uncounted_kept()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(("counted", "1", null), ("held", "1", null)));
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var counted = registry.Use("counted")!;
        registry.Release(counted);
        var held = registry.GetEncoder("held");
        dir.Write("models.json", Catalog(("counted", "2", null), ("held", "2", null)));
        registry.Reload();
        // Its uses were all given back: closed at once. The uncounted holder never says when it is done: kept.
        Assert.True(counted.IsReleased);
        Assert.False(held.IsDisposed);
        Assert.Equal([("held", "1")], registry.Encoders.Where(e => !e.Current).Select(e => (e.Name, e.Version)));
        Assert.True(registry.Encoders.Single(e => !e.Current).HeldUncounted);
        Assert.Single(held.Encode(OneImage()));
    }

    [Fact]
    public void A_reload_that_changes_nothing_must_not_move_the_generation()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", Catalog(("m", "1", null)));
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var encoder = registry.Use("m")!;
        dir.Write("broken.onnx", "not an onnx graph"u8.ToArray());
        dir.Write("models.json", Catalog(("m", "2", "broken.onnx")));
        Assert.Equal(ModelReloadOutcome.Failed, registry.Reload().Single().Outcome);
        dir.Write("models.json", Catalog(("m", "1", null)));
        Assert.Equal(ModelReloadOutcome.Unchanged, registry.Reload().Single().Outcome);
        Assert.Equal(0, registry.Generation);
        Assert.True(registry.IsCurrent(encoder));
    }
}
