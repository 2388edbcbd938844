namespace GraphActors.Graph;

/// <summary>
/// Input a person can fix (a file, row, key, field or option that is wrong), as opposed to a fault of this program.
/// The message names where the problem is in one line; the CLI prints it and exits 2 (an internal error exits 1).
/// Library code throws a subclass (<see cref="GraphInputException"/>, <see cref="Storage.PartitionStoreException"/>) or this.
/// </summary>
public class BadInputException : Exception
{
    public BadInputException(string message, Exception? inner = null) : base(message, inner) { }
}
