namespace FusionActors.Protocol.Specs;

/// <summary>
/// What a session promises about its frames when the node cannot keep up (docs/design.md, "Delivery"). On the wire
/// by name (<c>Lossless</c>, <c>LatencyConstrained</c>); in text <c>lossless</c> and <c>latency-constrained</c>.
/// </summary>
public enum DeliveryPolicy
{
    /// <summary>
    /// Every frame taken is processed, however late: an overloaded node holds clients back (back-pressure, NodeFull)
    /// and latency grows with the load. The per-stream caps (<see cref="StreamSpec.MaxPendingInputs"/>) still apply.
    /// The default.
    /// </summary>
    Lossless,

    /// <summary>
    /// Frames and encoder inputs that would be processed later than <see cref="SessionSpec.LatencyBudgetUs"/> after
    /// they are due are shed (counted, lowest <see cref="StreamSpec.Priority"/> first, oldest first); windows close
    /// without them. Latency stays bounded; a shed frame counts as handled (it is committed with its window).
    /// </summary>
    LatencyConstrained,
}

/// <summary>The text names of <see cref="DeliveryPolicy"/> (session files, the console).</summary>
public static class DeliveryPolicies
{
    public static string Name(DeliveryPolicy policy) => policy switch
    {
        DeliveryPolicy.Lossless => "lossless",
        DeliveryPolicy.LatencyConstrained => "latency-constrained",
        _ => $"undefined ({(int)policy})",
    };

    /// <summary>The policy named <paramref name="name"/> (as <see cref="Name"/> writes it, case-insensitive); false for any other text.</summary>
    public static bool TryParse(string? name, out DeliveryPolicy policy)
    {
        foreach (var p in Enum.GetValues<DeliveryPolicy>())
            if (string.Equals(Name(p), name, StringComparison.OrdinalIgnoreCase))
            {
                policy = p;
                return true;
            }
        policy = DeliveryPolicy.Lossless;
        return false;
    }
}
