// The ctl token: created once with mode 0600 and shared by whoever names the file; compared whole, in constant time.
using GraphActors.Cluster.Commands;

namespace GraphActors.Cluster.Tests.Commands;

public class CtlTokenTests
{
    [Fact]
    public void A_missing_token_file_is_created_once_readable_by_its_owner_only_and_every_later_reader_gets_the_same_token()
    {
        var dir = Directory.CreateTempSubdirectory("ga-ctl-token-").FullName;
        try
        {
            var path = Path.Combine(dir, "sub", "ctl.token");
            var (token, created) = CtlToken.ReadOrCreate(path);
            Assert.True(created);
            Assert.True(token.Length >= 40, token);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.False(CtlToken.OthersMayRead(path));

            var again = CtlToken.ReadOrCreate(path);
            Assert.Equal((token, false), again);
            Assert.Equal(token, CtlToken.Read(path));
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Nodes_starting_together_on_one_token_file_agree_on_one_token()
    {
        var dir = Directory.CreateTempSubdirectory("ga-ctl-token-").FullName;
        try
        {
            // 16 threads released together by a barrier, 25 times over: the race is real, not a one-in-a-while chance.
            for (var round = 0; round < 25; round++)
            {
                var path = Path.Combine(dir, $"ctl-{round}.token");
                var tokens = new (string Token, bool Created)[16];
                using var start = new Barrier(tokens.Length);
                var threads = Enumerable.Range(0, tokens.Length).Select(i => new Thread(() =>
                {
                    start.SignalAndWait();
                    tokens[i] = CtlToken.ReadOrCreate(path);
                })).ToArray();
                foreach (var t in threads) t.Start();
                foreach (var t in threads) t.Join();
                Assert.Single(tokens.Select(t => t.Token).Distinct());
                Assert.Single(tokens, t => t.Created);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
            Assert.Equal(25, Directory.GetFiles(dir).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_changing_command_is_refused_without_a_token_with_a_wrong_one_or_on_a_node_without_one_and_each_refusal_says_which()
    {
        Assert.Null(CtlToken.Refusal("cluster leave", "s3cret", "s3cret"));
        Assert.Contains("none was given", CtlToken.Refusal("cluster leave", "s3cret", ""));
        Assert.Contains("`ctl train start` was refused: the token given is not", CtlToken.Refusal("train start", "s3cret", "s3cre"));
        Assert.Contains("this node has no ctl token", CtlToken.Refusal("cluster down", "", "anything"));
        // An empty expected token never matches, not even an empty one.
        Assert.False(CtlToken.Matches("", ""));
        Assert.False(CtlToken.Matches("s3cret", "s3cret "));
    }

    [Fact]
    public void An_empty_or_missing_token_file_is_an_error_that_names_it()
    {
        var dir = Directory.CreateTempSubdirectory("ga-ctl-token-").FullName;
        try
        {
            var empty = Path.Combine(dir, "empty.token");
            File.WriteAllText(empty, "\n");
            Assert.Contains(empty, Assert.Throws<InvalidDataException>(() => CtlToken.Read(empty)).Message);
            Assert.Contains("nope.token", Assert.Throws<FileNotFoundException>(() => CtlToken.Read(Path.Combine(dir, "nope.token"))).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
