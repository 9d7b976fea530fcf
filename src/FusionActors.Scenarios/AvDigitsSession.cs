using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

namespace FusionActors.Scenarios;

/// <summary>The AV-Digits session: 16 kHz audio in 20 ms frames (1 s inputs) and an 8×8 camera, fused per 1 s window.</summary>
public static class AvDigitsSession
{
    public const string AudioStream = "audio";
    public const string CameraStream = "camera";
    public const int SampleRate = 16_000;
    public const int AudioFrameSamples = 320; // 20 ms
    public const int ImagePixels = 64;
    public static readonly string[] Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static SessionSpec Spec(string sessionId, FusionPolicy? policy = null, long allowedLatenessUs = 150_000,
        string audioModel = "audio-digits", string imageModel = "image-digits") => new()
    {
        SessionId = sessionId,
        Labels = Labels,
        Window = WindowSpec.Tumbling(1_000_000),
        Policy = policy ?? FusionPolicy.Adaptive,
        AllowedLatenessUs = allowedLatenessUs,
        Streams =
        [
            new StreamSpec
            {
                StreamId = AudioStream, Modality = "audio", Model = audioModel,
                FrameLength = AudioFrameSamples, SampleRateHz = SampleRate,
                Framing = Framing.Windowed(1_000_000, 1_000_000),
                Priority = 1, // audio is kept longer than video when a shared buffer sheds
            },
            new StreamSpec
            {
                StreamId = CameraStream, Modality = "image", Model = imageModel,
                FrameLength = ImagePixels, Priority = 0,
            },
        ],
    };
}
