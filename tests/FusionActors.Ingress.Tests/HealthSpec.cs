using System.Net;
using Akka.Cluster;
using FusionActors.Scenarios.Remote;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// /healthz/live and /healthz/ready on the node's HTTP port: Akka.Hosting's actor-system liveness check and
/// Akka.Cluster.Hosting's cluster readiness check. Ready means the node is Up in its cluster.
/// </summary>
public sealed class HealthSpec
{
    private static async Task<HttpStatusCode> Get(IngressNode node, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return (await http.GetAsync(node.HttpUri(path), TestContext.Current.CancellationToken)).StatusCode;
    }

    [Fact]
    public async Task A_running_node_is_live_and_ready()
    {
        await using var node = await IngressNode.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await Get(node, "/healthz/live"));
        Assert.Equal(HttpStatusCode.OK, await Get(node, "/healthz/ready"));
    }

    [Fact]
    public async Task A_node_that_has_not_joined_its_cluster_is_live_but_not_ready()
    {
        // Its only seed is a port nothing listens on: the node runs, and never joins.
        var nowhere = NodeProcess.FreePort();
        await using var node = await IngressNode.StartAsync(new Dictionary<string, string?> { ["Fusion:Node:Seeds"] = $"127.0.0.1:{nowhere}" }, waitUp: false);
        Assert.Equal(HttpStatusCode.OK, await Get(node, "/healthz/live"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(node, "/healthz/ready"));
    }

    [Fact]
    public async Task A_node_that_left_its_cluster_is_no_longer_ready()
    {
        await using var node = await IngressNode.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await Get(node, "/healthz/ready"));
        var cluster = Akka.Cluster.Cluster.Get(node.System);
        var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberRemoved(() => removed.TrySetResult());
        await cluster.LeaveAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await removed.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await Get(node, "/healthz/ready"));
    }
}
