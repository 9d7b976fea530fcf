using Akka.Actor;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>
/// Props from a plain factory delegate. <c>Props.Create(() => new X(...))</c> takes an expression tree that
/// Akka evaluates and keeps with every actor; a session has five actors and a node tens of thousands of
/// sessions, so the delegate saves both the CPU of opening a session and the memory each one holds.
/// These Props are for local deployment only (the delegate does not serialize), which is all sessions need.
/// </summary>
public static class ActorFactory
{
    public static Props Props<T>(Func<T> factory) where T : ActorBase => Akka.Actor.Props.CreateBy(new Producer<T>(factory));

    private sealed class Producer<T>(Func<T> factory) : IIndirectActorProducer where T : ActorBase
    {
        public Type ActorType => typeof(T);

        public ActorBase Produce() => factory();

        public void Release(ActorBase actor)
        {
        }
    }
}
