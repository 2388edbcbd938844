// The marker every GraphActors message carries: Akka binds it to GraphActorsSerializer, so nothing falls through to JSON.
namespace GraphActors.Contracts;

/// <summary>
/// Implemented by every message that may cross the wire. <c>serialization.conf</c> binds this interface to
/// <see cref="Serialization.GraphActorsSerializer"/>; a message type the serializer does not know fails loudly
/// at the sender instead of being written as JSON.
/// </summary>
public interface IGraphActorsMessage;
