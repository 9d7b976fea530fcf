using Xunit;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// The specs that need a plain console node share one (a node loads both models and forms a cluster; several
/// at once on 2 busy cores made startup the slowest part). They run one after another, on that node.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ConsoleNodeCollection : ICollectionFixture<ConsoleNode>
{
    public const string Name = "console node";
}
