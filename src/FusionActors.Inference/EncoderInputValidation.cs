namespace FusionActors.Inference;

/// <summary>The checks every encoder applies to a batch before it reaches the model.</summary>
public static class EncoderInputValidation
{
    /// <summary>
    /// Throws <see cref="EncoderInputException"/> for the first bad input: an empty batch, an input whose length is
    /// not <paramref name="length"/>, a NaN or infinite value, or a value outside [<paramref name="min"/>,
    /// <paramref name="max"/>] by more than <paramref name="tolerance"/>.
    /// </summary>
    public static void Validate(string model, IReadOnlyList<ReadOnlyMemory<float>> inputs, int length, float min, float max,
        float tolerance)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
            throw new EncoderInputException(model, -1, EncoderInputError.EmptyBatch, "the batch has no inputs");
        var lo = min - tolerance;
        var hi = max + tolerance;
        for (var i = 0; i < inputs.Count; i++)
        {
            var span = inputs[i].Span;
            if (span.Length != length)
                throw new EncoderInputException(model, i, EncoderInputError.WrongLength,
                    $"expected {length} values, got {span.Length}");
            for (var j = 0; j < span.Length; j++)
            {
                var v = span[j];
                if (!float.IsFinite(v))
                    throw new EncoderInputException(model, i, EncoderInputError.NotFinite, $"value {j} is {v}");
                if (v < lo || v > hi)
                    throw new EncoderInputException(model, i, EncoderInputError.OutOfRange,
                        $"value {j} is {v}, outside [{min}, {max}]");
            }
        }
    }

    /// <summary>
    /// Throws <see cref="EncoderInputException"/> (<see cref="EncoderInputError.NotInteger"/>) for the first value that is
    /// not a whole number: an integer-typed input (int64/int32, e.g. token ids) takes no fractions.
    /// </summary>
    public static void ValidateIntegral(string model, IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            var span = inputs[i].Span;
            for (var j = 0; j < span.Length; j++)
                if (span[j] != MathF.Round(span[j]))
                    throw new EncoderInputException(model, i, EncoderInputError.NotInteger, $"value {j} is {span[j]}, the model takes whole numbers");
        }
    }
}
