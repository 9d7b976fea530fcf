namespace FusionActors.Inference;

/// <summary>Why an encoder refused an input.</summary>
public enum EncoderInputError
{
    WrongLength,
    NotFinite,
    OutOfRange,
    EmptyBatch,
    /// <summary>A fraction where the model's input is an integer type.</summary>
    NotInteger,
}

/// <summary>An input was refused before it reached the model; says which input of the batch and why.</summary>
public sealed class EncoderInputException : ArgumentException
{
    public EncoderInputException(string model, int index, EncoderInputError error, string detail)
        : base($"model '{model}', input {index}: {error}: {detail}")
    {
        Model = model;
        Index = index;
        Error = error;
    }

    public string Model { get; }
    public int Index { get; }
    public EncoderInputError Error { get; }
}
