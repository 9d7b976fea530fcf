using FusionActors.Runtime.Hosting;

// A server node: FusionNodeProgram builds a generic host with AddFusionServer (appsettings.json, Fusion__*
// and FUSION_* environment variables, node [--config PATH] [--hostname H] [--port P] [--seeds ...] [--roles ...])
// and runs it until Ctrl+C or SIGTERM; exit code 3 when the actor system terminated on its own (downed).
return await FusionNodeProgram.RunAsync(args);
