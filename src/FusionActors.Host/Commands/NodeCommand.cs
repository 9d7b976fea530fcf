using System.CommandLine;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Host.Commands;

/// <summary>The <c>node</c> command: the node executable's command line (<see cref="FusionNodeCommand"/>), as a command here.</summary>
public static class NodeCommand
{
    public static Command Create() => FusionNodeCommand.Create();
}
