// MovieLens-100K-shaped raw files (u.user, u.item, u.data) from latent tastes: the real dataset is not redistributable.
using System.Globalization;
using System.Text;

namespace GraphActors.Graph.Tables;

public sealed record MovieLensShapeOptions(string Output)
{
    public int Users { get; init; } = 943;
    public int Movies { get; init; } = 1682;
    public int Ratings { get; init; } = 100_000;
    /// <summary>Width of the latent taste vectors that decide who rates what.</summary>
    public int Factors { get; init; } = 8;
    /// <summary>How strongly taste (against popularity alone) decides a rating: the dot product's weight.</summary>
    public double Taste { get; init; } = 2.0;
    public int Seed { get; init; } = 42;
}

/// <summary>
/// Writes u.user (id|age|gender|occupation|zip), u.item (id|title|date||url|19 genre flags) and u.data
/// (user\tmovie\trating\ttime) in MovieLens-100K's layout and size: 943 users, 1,682 movies, 100,000 ratings, at least
/// 20 per user, Latin-1. Who rates what follows latent tastes: each user and movie has a vector of
/// <see cref="MovieLensShapeOptions.Factors"/> N(0, 1) values, a movie's popularity is Zipf-like, and a user rates
/// movie m with probability ∝ popularity(m) · exp(taste · u·m / √factors). The visible attributes carry only part
/// of it: a movie's genres are its two largest latent coordinates (of 19 genres, by a fixed map), a user's age and
/// gender follow their first two coordinates with noise, occupation is random. So a model that sees only attributes
/// underfits, and per-id embeddings can learn the rest, as on the real data.
/// </summary>
public static class MovieLensShapeGenerator
{
    private static readonly string[] Occupations =
    [
        "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive", "healthcare", "homemaker",
        "lawyer", "librarian", "marketing", "none", "other", "programmer", "retired", "salesman", "scientist", "student",
        "technician", "writer",
    ];

    public static (int Users, int Movies, int Ratings) Run(MovieLensShapeOptions o)
    {
        if (o.Users < 1 || o.Movies < 20 || o.Factors < 2)
            throw new BadInputException($"MovieLens shape: need at least 1 user, 20 movies and 2 factors (got {o.Users}, {o.Movies}, {o.Factors}).");
        if (o.Ratings < 20L * o.Users || o.Ratings > (long)o.Users * o.Movies)
            throw new BadInputException($"--ratings: {o.Ratings} ratings for {o.Users} users: need at least 20 per user and at most one per user and movie ({o.Movies}).");
        Directory.CreateDirectory(o.Output);
        var rng = new Random(o.Seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var f = o.Factors;
        var user = new double[o.Users * f];
        var movie = new double[o.Movies * f];
        for (var i = 0; i < user.Length; i++) user[i] = Normal();
        for (var i = 0; i < movie.Length; i++) movie[i] = Normal();
        var latin1 = Encoding.Latin1;
        var inv = CultureInfo.InvariantCulture;

        using (var w = new StreamWriter(Path.Combine(o.Output, "u.user"), false, latin1))
        {
            for (var u = 0; u < o.Users; u++)
            {
                var age = Math.Clamp((int)Math.Round(34 + 11 * (0.7 * user[u * f] + 0.7 * Normal())), 7, 73);
                var gender = 0.8 * user[u * f + 1] + 0.6 * Normal() > 0.4 ? "F" : "M";
                w.Write($"{u + 1}|{age}|{gender}|{Occupations[rng.Next(Occupations.Length)]}|{10000 + rng.Next(89999)}\n");
            }
        }
        var popularity = new double[o.Movies];
        using (var w = new StreamWriter(Path.Combine(o.Output, "u.item"), false, latin1))
        {
            var rank = Enumerable.Range(0, o.Movies).OrderBy(_ => rng.Next()).ToArray();
            for (var m = 0; m < o.Movies; m++)
            {
                popularity[m] = 1.0 / Math.Pow(rank[m] + 10, 0.9);
                var genres = new int[MovieLensImporter.GenreCount];
                var order = Enumerable.Range(0, f).OrderByDescending(k => movie[m * f + k]).ToArray();
                genres[order[0] * 7 % MovieLensImporter.GenreCount] = 1;
                genres[(order[1] * 7 + 3) % MovieLensImporter.GenreCount] = 1;
                var year = 1930 + rng.Next(68);
                w.Write($"{m + 1}|Movie {m + 1} ({year})|01-Jan-{year}||http://example.invalid/{m + 1}|{string.Join('|', genres)}\n");
            }
        }

        // Each user's share of the ratings (at least 20), then that many distinct movies drawn by popularity × taste.
        var extra = o.Ratings - 20L * o.Users;
        var weights = Enumerable.Range(0, o.Users).Select(_ => Math.Exp(Normal())).ToArray();
        var total = weights.Sum();
        var counts = weights.Select(x => 20 + (int)(extra * x / total)).ToArray();
        for (var u = 0; counts.Sum() < o.Ratings; u = (u + 1) % o.Users) if (counts[u] < o.Movies) counts[u]++;
        var scale = o.Taste / Math.Sqrt(f);
        var written = 0;
        using (var w = new StreamWriter(Path.Combine(o.Output, "u.data"), false, latin1))
        {
            var p = new double[o.Movies];
            for (var u = 0; u < o.Users; u++)
            {
                for (var m = 0; m < o.Movies; m++)
                {
                    double dot = 0;
                    for (var k = 0; k < f; k++) dot += user[u * f + k] * movie[m * f + k];
                    p[m] = popularity[m] * Math.Exp(scale * dot);
                }
                var chosen = new HashSet<int>();
                var sum = p.Sum();
                while (chosen.Count < counts[u])
                {
                    var r = rng.NextDouble() * sum;
                    var m = 0;
                    while (m < o.Movies - 1 && (r -= p[m]) > 0) m++;
                    if (!chosen.Add(m)) continue;
                    sum -= p[m];
                    p[m] = 0;
                    double dot = 0;
                    for (var k = 0; k < f; k++) dot += user[u * f + k] * movie[m * f + k];
                    var rating = Math.Clamp((int)Math.Round(3.5 + dot / Math.Sqrt(f) + 0.8 * Normal()), 1, 5);
                    w.Write(string.Create(inv, $"{u + 1}\t{m + 1}\t{rating}\t{874724710 + rng.Next(20_000_000)}\n"));
                    written++;
                }
            }
        }
        return (o.Users, o.Movies, written);
    }
}
