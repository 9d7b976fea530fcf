namespace FusionActors.Inference.Tests;

public sealed class ModelCatalogSpec
{
    private const string OneModel = """
        {"models":[{"name":"m","file":"sub/m.onnx","modality":"image",
          "input":{"name":"image","shape":[-1,1,8,8],"min":0.0,"max":1.0},
          "outputs":{"embedding":{"name":"embedding","size":32},"logits":{"name":"logits","size":3}},
          "labels":["a","b","c"],"temperature":1.5,"metrics":{"testAccuracy":0.9}}]}
        """;

    [Fact]
    public void The_committed_catalog_must_be_found_from_the_test_directory_and_describe_both_models()
    {
        var catalog = ModelCatalog.FindDefault();
        Assert.EndsWith(Path.Combine("models", "models.json"), catalog.Path);

        var audio = catalog.Get("audio-digits");
        Assert.Equal("audio", audio.Modality);
        Assert.Equal("pcm", audio.Input.Name);
        Assert.Equal([-1, 16000], audio.Input.Shape);
        Assert.Equal(16000, audio.Input.Length);
        Assert.Equal((-1f, 1f), (audio.Input.Min, audio.Input.Max));
        Assert.Equal(16000, audio.Input.SampleRate);
        Assert.Equal(new ModelOutputSpec("embedding", 64), audio.Embedding);
        Assert.Equal(new ModelOutputSpec("logits", 10), audio.Logits);
        Assert.True(File.Exists(audio.FilePath), audio.FilePath);

        var image = catalog.Get("image-digits");
        Assert.Equal([-1, 1, 8, 8], image.Input.Shape);
        Assert.Equal(64, image.Input.Length);
        Assert.Equal(32, image.Embedding!.Size);
        Assert.Equal(Enumerable.Range(0, 10).Select(d => d.ToString()), image.Labels);
        Assert.All(catalog.Models, m => Assert.InRange(m.Temperature, 0.05, 20));
    }

    [Fact]
    public void File_paths_must_resolve_against_the_directory_of_models_json()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", OneModel);
        var spec = ModelCatalog.Load(path).Get("m");
        Assert.Equal(Path.Combine(dir.Path, "sub", "m.onnx"), spec.FilePath);
        Assert.Equal(1.5, spec.Temperature);
        Assert.Equal(3, spec.ClassCount);
        Assert.Null(spec.Input.SampleRate);
    }

    [Fact]
    public void A_missing_catalog_must_name_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "models.json");
        var e = Assert.Throws<FileNotFoundException>(() => ModelCatalog.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void An_unknown_model_must_name_the_known_ones()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => ModelCatalog.FindDefault().Get("speaker-id"));
        Assert.Contains("speaker-id", e.Message);
        Assert.Contains("audio-digits", e.Message);
        Assert.Contains("image-digits", e.Message);
    }

    [Fact]
    public void The_registry_must_refuse_an_unknown_model_and_open_nothing()
    {
        using var registry = new ModelRegistry(ModelCatalog.FindDefault());
        Assert.Throws<KeyNotFoundException>(() => registry.GetEncoder("nope"));
        Assert.Empty(registry.OpenModels);
    }

    [Fact]
    public void A_model_whose_onnx_file_is_missing_must_fail_with_its_path_and_be_retried_later()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", OneModel);
        using var registry = new ModelRegistry(ModelCatalog.Load(path));
        var e = Assert.Throws<FileNotFoundException>(() => registry.GetEncoder("m"));
        Assert.Contains(Path.Combine(dir.Path, "sub", "m.onnx"), e.Message);
        Assert.Empty(registry.OpenModels);
    }

    [Fact]
    public void A_catalog_that_disagrees_with_the_graph_must_be_refused_at_load()
    {
        using var dir = new TempDirectory();
        var onnx = ModelCatalog.FindDefault().Get("image-digits").FilePath;
        File.Copy(onnx, Path.Combine(dir.Path, "image.onnx"));
        var json = OneModel.Replace("sub/m.onnx", "image.onnx");
        var wrongInput = ModelCatalog.Load(dir.Write("a.json", json.Replace("\"name\":\"image\"", "\"name\":\"pixels\"")));
        Assert.Contains("input.name 'pixels' is not an input of the graph", Assert.Throws<InvalidDataException>(() => new OnnxEncoder(wrongInput.Get("m"))).Message);
        var wrongSize = ModelCatalog.Load(dir.Write("b.json", json));
        Assert.Contains("'logits' has 10 values", Assert.Throws<InvalidDataException>(() => new OnnxEncoder(wrongSize.Get("m"))).Message);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"items\":[]}", "\"models\" array")]
    [InlineData("{\"models\":[{\"file\":\"m.onnx\"}]}", "missing \"name\"")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[1,64],\"min\":0,\"max\":1},\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "shape must be [-1")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,64],\"min\":1,\"max\":0},\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "must be below max")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,64],\"min\":0,\"max\":1},\"outputs\":{}}]}", "needs \"embedding\" or \"logits\"")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1,\"transforms\":[{\"op\":\"blur\"}]},\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "('m').input.transforms[0].op \"blur\"")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1,\"transforms\":[{\"op\":\"pad\",\"height\":4,\"width\":4}]},\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "('m').input.transforms: pad to 4x4")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1,\"elementType\":\"float16\"},\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "('m').input.elementType must be")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1},\"outputs\":{\"logits\":{\"name\":\"l\",\"size\":4,\"pool\":{\"axis\":1,\"op\":\"sum\"}}}}]}", "('m').outputs.logits.pool.op")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1},\"outputs\":{\"logits\":{\"name\":\"l\",\"size\":4,\"pool\":{\"axis\":0,\"op\":\"max\"}}}}]}", "('m').outputs.logits.pool.axis must be 1 or more")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1},\"inputs\":[{\"name\":\"sr\",\"elementType\":\"int64\",\"shape\":[1],\"values\":[1,2]}],\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "('m').inputs['sr'].values: a constant input needs 1 values")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1},\"inputs\":[{\"name\":\"sr\",\"elementType\":\"int64\",\"shape\":[1],\"values\":[1.5]}],\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "('m').inputs['sr'].values: Int64 takes whole numbers")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1},\"outputs\":{\"logits\":{\"name\":\"l\",\"size\":2}},\"labels\":[\"a\",\"b\"],\"vocabulary\":{\"file\":\"v.txt\"}}]}", "('m'): \"labels\" and \"vocabulary\" exclude each other")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1},\"outputs\":{\"logits\":{\"name\":\"l\",\"size\":2}},\"vocabulary\":{\"file\":\"missing.txt\"}}]}", "('m').vocabulary.file")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,1,8,8],\"min\":0,\"max\":1},\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":\"four\"}}}]}", "('m'): a value has the wrong type")]
    [InlineData("{\"models\":[{\"name\":\"m\",\"file\":\"m.onnx\",\"modality\":\"image\",\"input\":{\"name\":\"x\",\"shape\":[-1,65536,65536],\"min\":0,\"max\":1},\"outputs\":{\"embedding\":{\"name\":\"e\",\"size\":4}}}]}", "('m').input.shape: at most 8 dims and 16777216 values")]
    public void A_malformed_catalog_must_say_what_is_wrong(string json, string expected)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("models.json", json);
        var e = Assert.Throws<InvalidDataException>(() => ModelCatalog.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_model_listed_twice_must_be_refused()
    {
        using var dir = new TempDirectory();
        var model = OneModel.Trim()[11..^2];
        var path = dir.Write("models.json", "{\"models\":[" + model + "," + model + "]}");
        Assert.Contains("listed twice", Assert.Throws<InvalidDataException>(() => ModelCatalog.Load(path)).Message);
    }
}
