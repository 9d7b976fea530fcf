using FusionActors.Protocol;

namespace FusionActors.Fusion;

/// <summary>What the fusion knows of a stream's health when it decides a window.</summary>
public readonly record struct StreamSnapshot(StreamState State, double Reliability);
