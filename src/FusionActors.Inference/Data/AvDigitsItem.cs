namespace FusionActors.Inference.Data;

/// <summary>
/// One AV-Digits item: a spoken digit (one second of 16 kHz PCM) and a handwritten image of the same digit.
/// </summary>
/// <param name="Id">Item id, unique in the data set (e.g. <c>te-00012</c>).</param>
/// <param name="Label">The digit, 0..9.</param>
/// <param name="Split"><c>train</c>, <c>val</c> or <c>test</c>.</param>
/// <param name="Voice">espeak-ng voice as <c>language+variant</c>; splits never share a voice.</param>
/// <param name="Speed">espeak-ng speed (words per minute); <c>null</c> when the manifest does not give it.</param>
/// <param name="Pitch">espeak-ng pitch (0..99); <c>null</c> when the manifest does not give it.</param>
/// <param name="ImageIndex">
/// Index of the image in scikit-learn's digits (splits never share an image); <c>null</c> when the image does
/// not come from them (e.g. a typeset digit) or the manifest does not say.
/// </param>
/// <param name="Pcm">16000 samples in [-1, 1).</param>
/// <param name="Image">64 pixels, row by row, in [0, 1].</param>
public sealed record AvDigitsItem(
    string Id,
    int Label,
    string Split,
    string Voice,
    int? Speed,
    int? Pitch,
    int? ImageIndex,
    float[] Pcm,
    float[] Image);
