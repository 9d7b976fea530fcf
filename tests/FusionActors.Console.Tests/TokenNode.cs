namespace FusionActors.Fusionctl.Tests;

public sealed class TokenNode : ConsoleNode
{
    protected override string? Token => "s3cret-token";
}
