using FusionActors.Core.Fusion.Policies;

namespace FusionActors.Core.Fusion;

/// <summary>
/// What the node's fusion learned from data, beyond the encoders: the per-availability-pattern calibration and the
/// <c>learned</c> policy's head. Loaded once per node from models/fusion.json (FusionActors.Inference) and shared by
/// every session; <see cref="None"/> when the node has no such file.
/// </summary>
public sealed record FusionModels(FusionCalibration Calibration, ILearnedWeighting? Learned)
{
    public static FusionModels None { get; } = new(FusionCalibration.Identity, null);
}
