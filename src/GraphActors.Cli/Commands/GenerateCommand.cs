// graphactors generate: synthetic user/item Hive-layout tables with learnable labels.
using System.CommandLine;
using GraphActors.Graph.Tables;

namespace GraphActors.Cli.Commands;

public static class GenerateCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Root folder of the Hive tables to write", Required = true };
        var users = new Option<int>("--users") { Description = "Number of user nodes", DefaultValueFactory = _ => 20_000 }.AtLeast(1);
        var items = new Option<int>("--items") { Description = "Number of item nodes", DefaultValueFactory = _ => 10_000 }.AtLeast(1);
        var clicks = new Option<long>("--clicks") { Description = "Number of user→item click edges", DefaultValueFactory = _ => 200_000 }.AtLeast(0L);
        var swings = new Option<long>("--swings") { Description = "Number of item→item swing edges", DefaultValueFactory = _ => 100_000 }.AtLeast(0L);
        var dim = new Option<int>("--feature-dim") { Description = "Feature vector length", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var classes = new Option<int>("--classes") { Description = "Number of classes (latent communities)", DefaultValueFactory = _ => 8 }.AtLeast(1);
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 42 };
        var dt = new Option<string>("--dt") { Description = "Partition date YYYY-MM-DD", DefaultValueFactory = _ => "2024-01-01" };
        var grow = new Option<double>("--grow")
        {
            Description = "A later day of the same graph: the graph of the other options unchanged, plus this share more nodes and edges (0.01: a 1 % daily change; docs/DATA.md)",
        };
        var cmd = new Command("generate", "Synthetic heterogeneous Hive-layout tables (nodes_user, nodes_item, edges_click, edges_swing)");
        foreach (var o in new Option[] { output, users, items, clicks, swings, dim, classes, seed, dt, grow }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var s = SyntheticGenerator.Run(new GenerateOptions(pr.GetValue(output)!)
            {
                Users = pr.GetValue(users), Items = pr.GetValue(items), Clicks = pr.GetValue(clicks), Swings = pr.GetValue(swings),
                FeatureDim = pr.GetValue(dim), Classes = pr.GetValue(classes), Seed = pr.GetValue(seed), Dt = pr.GetValue(dt)!,
                Grow = pr.GetValue(grow),
            }, Console.Error);
            Console.WriteLine($"generated {s.Users:N0} users, {s.Items:N0} items, {s.Clicks:N0} clicks, {s.Swings:N0} swings in {s.Seconds:F1} s → {pr.GetValue(output)}");
        }));
        cmd.Subcommands.Add(MovieLens());
        return cmd;
    }

    // MovieLens-100K's raw files of its shape, for `graphactors import movielens --input DIR`.
    private static Command MovieLens()
    {
        var output = new Option<string>("--out") { Description = "Folder to write u.user, u.item and u.data into", Required = true };
        var users = new Option<int>("--users") { Description = "Users", DefaultValueFactory = _ => 943 }.AtLeast(1);
        var movies = new Option<int>("--movies") { Description = "Movies", DefaultValueFactory = _ => 1682 }.AtLeast(20);
        var ratings = new Option<int>("--ratings") { Description = "Ratings (at least 20 per user)", DefaultValueFactory = _ => 100_000 }.AtLeast(20);
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 42 };
        var cmd = new Command("movielens", "MovieLens-100K-shaped u.user/u.item/u.data from latent tastes (attributes show only part of them)");
        foreach (var o in new Option[] { output, users, movies, ratings, seed }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var (u, m, r) = MovieLensShapeGenerator.Run(new MovieLensShapeOptions(pr.GetValue(output)!)
            {
                Users = pr.GetValue(users), Movies = pr.GetValue(movies), Ratings = pr.GetValue(ratings), Seed = pr.GetValue(seed),
            });
            Console.WriteLine($"generated {u:N0} users, {m:N0} movies, {r:N0} ratings → {pr.GetValue(output)} (graphactors import movielens --input {pr.GetValue(output)})");
        }));
        return cmd;
    }
}
