namespace FusionActors.Inference.Tests;

[Collection(CommittedModelsCollection.Name)]
public sealed class EncoderInputSpec(CommittedModelsFixture models)
{
    private static ReadOnlyMemory<float>[] Batch(params float[][] inputs) => inputs.Select(i => (ReadOnlyMemory<float>)i).ToArray();

    private static float[] Filled(int length, float value) => Enumerable.Repeat(value, length).ToArray();

    [Fact]
    public void An_empty_batch_must_be_refused()
    {
        var e = Assert.Throws<EncoderInputException>(() => models.Image.Encode(Array.Empty<ReadOnlyMemory<float>>()));
        Assert.Equal(EncoderInputError.EmptyBatch, e.Error);
        Assert.Equal("image-digits", e.Model);
    }

    [Fact]
    public void An_input_of_the_wrong_length_must_be_refused_with_its_index()
    {
        var e = Assert.Throws<EncoderInputException>(() => models.Audio.Encode(Batch(Filled(16000, 0f), Filled(15999, 0f))));
        Assert.Equal(EncoderInputError.WrongLength, e.Error);
        Assert.Equal(1, e.Index);
        Assert.Contains("16000", e.Message);

        var image = Assert.Throws<EncoderInputException>(() => models.Image.Encode(Batch(Filled(65, 0f))));
        Assert.Equal(EncoderInputError.WrongLength, image.Error);
        Assert.Equal(0, image.Index);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_value_that_is_not_finite_must_be_refused(float bad)
    {
        var input = Filled(64, 0.5f);
        input[17] = bad;
        var e = Assert.Throws<EncoderInputException>(() => models.Image.Encode(Batch(Filled(64, 0f), Filled(64, 1f), input)));
        Assert.Equal(EncoderInputError.NotFinite, e.Error);
        Assert.Equal(2, e.Index);
        Assert.Contains("value 17", e.Message);

        var pcm = Filled(16000, 0f);
        pcm[15999] = bad;
        Assert.Equal(EncoderInputError.NotFinite,
            Assert.Throws<EncoderInputException>(() => models.Audio.Encode(Batch(pcm))).Error);
    }

    [Theory]
    [InlineData(1.01f)]
    [InlineData(-0.01f)]
    [InlineData(255f)]
    public void A_pixel_outside_zero_to_one_must_be_refused(float bad)
    {
        var input = Filled(64, 0.5f);
        input[3] = bad;
        var e = Assert.Throws<EncoderInputException>(() => models.Image.Encode(Batch(input)));
        Assert.Equal(EncoderInputError.OutOfRange, e.Error);
    }

    [Theory]
    [InlineData(1.5f)]
    [InlineData(-1.01f)]
    [InlineData(32767f)]
    public void A_sample_outside_minus_one_to_one_must_be_refused(float bad)
    {
        var pcm = Filled(16000, 0f);
        pcm[8000] = bad;
        var e = Assert.Throws<EncoderInputException>(() => models.Audio.Encode(Batch(pcm)));
        Assert.Equal(EncoderInputError.OutOfRange, e.Error);
    }

    [Fact]
    public void Values_at_the_limits_and_within_the_tolerance_must_be_accepted()
    {
        var image = Filled(64, 1f);
        image[0] = 0f;
        image[1] = 1f + OnnxEncoder.RangeTolerance / 2;
        Assert.Single(models.Image.Encode(Batch(image)));

        var pcm = Filled(16000, -1f);
        pcm[0] = 1f;
        Assert.Single(models.Audio.Encode(Batch(pcm)));
    }

    [Fact]
    public void A_refused_batch_must_not_stop_the_next_one()
    {
        Assert.Throws<EncoderInputException>(() => models.Image.Encode(Batch(Filled(64, float.NaN))));
        Assert.Single(models.Image.Encode(Batch(Filled(64, 0.25f))));
    }
}
