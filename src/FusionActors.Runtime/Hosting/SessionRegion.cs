namespace FusionActors.Runtime.Hosting;

/// <summary>Registry key of the shard region of sessions (<c>registry.Get&lt;SessionRegion&gt;()</c>).</summary>
public sealed class SessionRegion;
