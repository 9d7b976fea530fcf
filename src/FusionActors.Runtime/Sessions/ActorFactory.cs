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

    /// <summary>
    /// A factory that hands <paramref name="state"/> (a hibernated actor's, to wake it with) to its first actor only:
    /// an actor restarted after a failure starts fresh, as one that never slept, and the Props do not keep the state alive.
    /// </summary>
    public static Func<T> Once<T, TState>(TState? state, Func<TState?, T> make) where TState : class
    {
        var once = state;
        return () =>
        {
            var s = once;
            once = null;
            return make(s);
        };
    }

    private sealed class Producer<T>(Func<T> factory) : IIndirectActorProducer where T : ActorBase
    {
        public Type ActorType => typeof(T);

        public ActorBase Produce() => factory();

        public void Release(ActorBase actor)
        {
        }
    }
}
