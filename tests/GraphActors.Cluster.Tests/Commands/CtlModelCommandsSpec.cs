// `ctl model list|register|unregister|scale` as the CommandHandler answers them: every inference node's InferenceActor, over Akka.Remote on 127.0.0.1.
using Akka.Actor;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Inference;
using GraphActors.Cluster.Tests.Inference;
using GraphActors.Cluster.Tests.Support;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Tests.Commands;

/// <summary>
/// A serving node (partition + inference, started as `graphactors node` does, one model "sage") and a second member
/// with the inference role whose inference actor never runs: it stands for an inference node that does not answer.
/// Commands are asked of the serving node's CommandHandler, as the cluster client would.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class CtlModelCommandsSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private const string Token = "ctl-model-token";

    [Fact]
    public async Task Model_commands_reach_every_inference_node_answer_as_the_management_API_and_name_a_silent_node()
    {
        var store = TestStore.Build(1);
        var checkpoint = await InferenceRoleTests.TrainCheckpoint(store);
        var run = Path.GetDirectoryName(store)!;
        var port = TestNodes.FreePort();
        var config = TestNodes.Node(port, [port], "\"partition\", \"inference\"", store, $$"""
            graphactors.ctl.token = "{{Token}}"
            graphactors.inference {
              graph-store = local
              model-store = {{NodeConfig.Quote(run)}}
              management-token-file = {{NodeConfig.Quote(Path.Combine(run, "node", "management-token"))}}
              models = [{ name = "sage", url = {{NodeConfig.Quote(checkpoint)}} }]
              inference-port = 0
              management-port = 0
              metrics-port = 0
            }
            """);
        var serving = NodeHost.Start(config, TextWriter.Null);
        ActorSystem? silent = null;
        try
        {
            var inference = await serving.ActorSelection("/user/" + InferenceExtensions.ActorName).ResolveOne(TimeSpan.FromSeconds(10));
            Assert.IsType<InferenceActor.Started>(await inference.Ask<object>(InferenceActor.GetAddresses.Instance, Wait));
            var self = TestNodes.Address(port);

            ServedModelsResult Result(object answer) => Assert.IsType<ServedModelsResult>(answer);
            Task<object> Ask(object message) => serving.ActorSelection(Names.CommandHandlerPath).Ask<object>(message, Wait);

            var list = Result(await Ask(new GetServedModels(5000)));
            Assert.Equal("", list.Problem);
            var node = Assert.Single(list.Nodes);
            Assert.Equal((self, true, 200), (node.Node, node.Ok, node.Code));
            var sage = Assert.Single(node.Models);
            Assert.Equal(("sage", true, "READY"), (sage.Name, sage.IsDefault, sage.Status));

            // Changes need the token.
            Assert.IsType<NotAuthorized>(await Ask(new RegisterServedModel(checkpoint, "sage2", "", -1, "", 5000)));

            var registered = Assert.Single(Result(await Ask(new WithToken(Token, new RegisterServedModel(checkpoint, "sage2", "7.0", 1, "", 30_000)))).Nodes);
            Assert.True(registered.Ok, registered.Message);
            Assert.Equal("Model \"sage2\" Version: 7.0 registered with 1 initial workers", registered.Message);

            // The management API's refusals, with its statuses: a url that is no model, a version registered twice, an unknown model.
            var badUrl = Assert.Single(Result(await Ask(new WithToken(Token, new RegisterServedModel(Path.Combine(run, "no-such-model"), "x", "", -1, "", 30_000)))).Nodes);
            Assert.Equal((false, 400), (badUrl.Ok, badUrl.Code));
            var twice = Assert.Single(Result(await Ask(new WithToken(Token, new RegisterServedModel(checkpoint, "sage2", "7.0", -1, "", 30_000)))).Nodes);
            Assert.Equal((false, 409), (twice.Ok, twice.Code));
            var unknown = Assert.Single(Result(await Ask(new WithToken(Token, new UnregisterServedModel("nope", "", "", 5000)))).Nodes);
            Assert.Equal((false, 404, "Model not found: nope"), (unknown.Ok, unknown.Code, unknown.Message));
            var badScale = Assert.Single(Result(await Ask(new WithToken(Token, new ScaleServedModel("sage2", "", 2, 1, "", 5000)))).Nodes);
            Assert.Equal((false, 400), (badScale.Ok, badScale.Code));

            var scaled = Assert.Single(Result(await Ask(new WithToken(Token, new ScaleServedModel("sage2", "7.0", 2, 3, self, 5000)))).Nodes);
            Assert.True(scaled.Ok, scaled.Message);
            Assert.Equal("Workers scaled to 2 for model: sage2, version: 7.0", scaled.Message);
            var listed = Assert.Single(Result(await Ask(new GetServedModels(5000))).Nodes).Models.Single(m => m.Name == "sage2");
            Assert.Equal(("7.0", true, 2, 3), (listed.Version, listed.IsDefault, listed.MinWorkers, listed.MaxWorkers));

            var removed = Assert.Single(Result(await Ask(new WithToken(Token, new UnregisterServedModel("sage2", "7.0", "", 5000)))).Nodes);
            Assert.True(removed.Ok, removed.Message);
            Assert.Equal("Model \"sage2\" unregistered", removed.Message);

            // --node that is no inference member: refused before anything is sent.
            var nowhere = Result(await Ask(new WithToken(Token, new ScaleServedModel("sage", "", 1, 1, TestNodes.Address(1), 5000))));
            Assert.Empty(nowhere.Nodes);
            Assert.Contains("is not an Up member with role 'inference'", nowhere.Problem);

            // A second inference member whose inference actor does not answer: named, with 504, next to the serving node's answer.
            var silentPort = TestNodes.FreePort();
            silent = ActorSystem.Create(Names.ActorSystem, TestNodes.Node(silentPort, [port], "\"inference\"", null));
            await TestNodes.AwaitUp(serving, 2, Wait);
            var both = Result(await Ask(new GetServedModels(1500)));
            Assert.Equal(2, both.Nodes.Length);
            var answered = both.Nodes.Single(n => n.Node == self);
            Assert.True(answered.Ok, answered.Message);
            var quiet = both.Nodes.Single(n => n.Node == TestNodes.Address(silentPort));
            Assert.Equal((false, 504), (quiet.Ok, quiet.Code));
            Assert.Contains("no answer from its inference actor within 1.5 s", quiet.Message);
        }
        finally
        {
            if (silent is not null) await silent.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
            await CoordinatedShutdown.Get(serving).Run(CoordinatedShutdown.ClrExitReason.Instance);
            await serving.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
