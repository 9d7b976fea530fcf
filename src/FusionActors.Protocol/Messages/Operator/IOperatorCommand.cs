namespace FusionActors.Protocol;

/// <summary>Operator and chaos commands: from the wire, only with the operator credential; never through the client gateway.</summary>
public interface IOperatorCommand : ICredentialed;
