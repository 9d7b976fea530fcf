namespace FusionActors.Scenarios;

/// <summary>A request a scenario cannot run as asked (an unknown name, a combination it does not allow); a command line prints it with its usage.</summary>
public class UsageException(string message) : Exception(message);
