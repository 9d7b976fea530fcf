using FusionActors.Runtime.Hosting;

// A server node: a generic host with AddFusionServer (appsettings.json, Fusion__* and FUSION_* environment
// variables, and the options `--help` lists), run until Ctrl+C or SIGTERM; exit code 3 when the actor system
// terminated on its own (downed), 1 for invalid or unsafe options, 2 for a command line it does not understand.
return await FusionNodeCommand.RunAsync(args);
