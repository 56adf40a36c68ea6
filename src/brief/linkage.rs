//! Which articles make one story: average linkage over the similarities of `group`.
//!
//! The two stories whose articles are closest *on average* are merged, again and again, while
//! that average reaches `brief.story_threshold`. Unlike single-link (one close pair joins two
//! groups, so a night chains into one story through "the ministry said"), a story of many
//! articles only takes a new one that is close to most of them: a wire copy joins its story
//! without pulling in everything near it. Two further bounds: a story never grows past
//! `brief.max_story_articles`, and its articles' dates span at most `brief.window_days`.
//!
//! The average of two stories is exact: with unit vectors it is the dot product of the two
//! stories' vector sums over the product of their sizes, so it needs no n×n table, and pairs
//! the sparse neighbour index did not score still count. The neighbour lists only say which
//! stories meet at all. Order is deterministic: largest story first, then input order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::brief::group::{dot, Scored};

/// The bounds on a story (`brief.story_threshold`, `brief.max_story_articles`,
/// `brief.window_days`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The average similarity two stories' articles must reach to be merged.
    pub threshold: f64,
    /// The most articles in one story.
    pub max_size: usize,
    /// The most days between a story's first and last article (of those with a date).
    pub window_days: i64,
}

impl Limits {
    pub fn new(threshold: f64) -> Limits {
        Limits {
            threshold,
            max_size: usize::MAX,
            window_days: i64::MAX,
        }
    }
}

/// Stories as lists of article indices, by average linkage within `limits`. Largest first;
/// ties in input order; members in input order. `scored.neighbours` (from
/// [`group::score`](crate::brief::group::score)) says which
/// stories meet; the average similarity of two stories is computed exactly, from the sums of
/// their members' unit vectors (the mean of all pairwise cosines is the dot product of the two
/// sums over the product of the sizes), so pairs the sparse index did not score still count.
pub fn stories(scored: &Scored, limits: Limits) -> Vec<Vec<usize>> {
    stories_from(scored.unit_vectors.clone(), scored, limits)
}

/// [`stories`] that takes the unit vectors out of `scored` instead of copying them (on a large
/// night they are the largest thing grouping holds).
pub fn stories_taking_vectors(scored: &mut Scored, limits: Limits) -> Vec<Vec<usize>> {
    let sums = std::mem::take(&mut scored.unit_vectors);
    stories_from(sums, scored, limits)
}

fn stories_from(sums: Vec<Vec<(u32, f32)>>, scored: &Scored, limits: Limits) -> Vec<Vec<usize>> {
    let mut clusters = Clusters::new(sums, scored, limits);
    clusters.merge_all();
    let mut groups: Vec<Vec<usize>> = clusters
        .members
        .into_iter()
        .filter(|members| !members.is_empty())
        .collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    groups
}

/// Average-linkage state: per live cluster, its members, the sum of their unit vectors, the
/// clusters it meets, and its first and last publication day.
struct Clusters {
    members: Vec<Vec<usize>>,
    sums: Vec<Vec<(u32, f32)>>,
    /// The clusters each cluster meets. An entry may name a cluster merged since: it stands
    /// for the cluster that took it in (see [`Clusters::live`]); a list is brought up to date
    /// when its cluster is offered.
    meets: Vec<Vec<u32>>,
    /// The cluster each cluster was merged into (itself while it is live).
    merged_into: Vec<u32>,
    days: Vec<Option<(i64, i64)>>,
    version: Vec<u32>,
    heap: BinaryHeap<Merge>,
    limits: Limits,
}

/// A candidate merge of clusters `first` < `second`, valid while both are at these versions.
#[derive(Debug, PartialEq)]
struct Merge {
    average: f64,
    first: u32,
    second: u32,
    versions: (u32, u32),
}

impl Eq for Merge {}

impl Ord for Merge {
    /// Highest average first; ties: the lowest pair of indices, so the order is deterministic.
    fn cmp(&self, other: &Merge) -> Ordering {
        self.average
            .total_cmp(&other.average)
            .then_with(|| (other.first, other.second).cmp(&(self.first, self.second)))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Merge) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Clusters {
    fn new(sums: Vec<Vec<(u32, f32)>>, scored: &Scored, limits: Limits) -> Clusters {
        let count = scored.days.len();
        let mut meets: Vec<Vec<u32>> = vec![Vec::new(); count];
        for (index, list) in scored.neighbours.iter().enumerate().take(count) {
            for neighbour in list {
                let other = neighbour.index as usize;
                if other < count && other != index {
                    meets[index].push(other as u32);
                    meets[other].push(index as u32);
                }
            }
        }
        for list in &mut meets {
            list.sort_unstable();
            list.dedup();
            list.shrink_to_fit();
        }
        let mut clusters = Clusters {
            members: (0..count).map(|index| vec![index]).collect(),
            sums,
            meets,
            merged_into: (0..count as u32).collect(),
            days: scored.days.iter().map(|d| d.map(|d| (d, d))).collect(),
            version: vec![0; count],
            heap: BinaryHeap::new(),
            limits,
        };
        // Each pair once (from its lower index); later offers are of merged clusters.
        for index in 0..count {
            clusters.offer(index, true);
        }
        clusters
    }

    /// Queue the merges of `cluster` with the clusters it meets that are allowed (size, time
    /// window) and whose average similarity reaches the threshold.
    fn offer(&mut self, cluster: usize, only_later: bool) {
        let mut others = std::mem::take(&mut self.meets[cluster]);
        for other in &mut others {
            *other = self.live(*other as usize) as u32;
        }
        others.sort_unstable();
        others.dedup();
        others.retain(|&other| other as usize != cluster);
        for &other in &others {
            let other = other as usize;
            if only_later && other < cluster {
                continue;
            }
            if !self.allowed(cluster, other) {
                continue;
            }
            let sizes = (self.members[cluster].len() * self.members[other].len()) as f64;
            let average = dot(&self.sums[cluster], &self.sums[other]) / sizes;
            if average >= self.limits.threshold {
                let (first, second) = (cluster.min(other), cluster.max(other));
                self.heap.push(Merge {
                    average,
                    first: first as u32,
                    second: second as u32,
                    versions: (self.version[first], self.version[second]),
                });
            }
        }
        self.meets[cluster] = others;
    }

    /// The live cluster that `cluster` is now part of (path halving).
    fn live(&mut self, mut cluster: usize) -> usize {
        while self.merged_into[cluster] as usize != cluster {
            let next = self.merged_into[self.merged_into[cluster] as usize];
            self.merged_into[cluster] = next;
            cluster = next as usize;
        }
        cluster
    }

    /// Whether the two clusters may become one story: not over the size cap, and their
    /// articles' dates (where known) within the window.
    fn allowed(&self, first: usize, second: usize) -> bool {
        let size = self.members[first].len() + self.members[second].len();
        let span = match (self.days[first], self.days[second]) {
            (Some((a, b)), Some((c, d))) => b.max(d) - a.min(c),
            _ => 0,
        };
        size <= self.limits.max_size && span <= self.limits.window_days
    }

    fn merge_all(&mut self) {
        while let Some(merge) = self.heap.pop() {
            let (keep, gone) = (merge.first as usize, merge.second as usize);
            let current = (self.version[keep], self.version[gone]);
            if current != merge.versions || self.members[gone].is_empty() {
                continue;
            }
            let met = std::mem::take(&mut self.meets[gone]);
            self.meets[keep].extend(met);
            self.merged_into[gone] = keep as u32;
            let members = std::mem::take(&mut self.members[gone]);
            self.members[keep].extend(members);
            self.members[keep].sort_unstable();
            let gone_sum = std::mem::take(&mut self.sums[gone]);
            self.sums[keep] = add(&self.sums[keep], &gone_sum);
            self.days[keep] = match (self.days[keep], self.days[gone]) {
                (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                (known, None) | (None, known) => known,
            };
            self.version[keep] += 1;
            self.version[gone] += 1;
            self.offer(keep, false);
        }
    }
}

/// The sum of two sparse vectors sorted by term.
fn add(first: &[(u32, f32)], second: &[(u32, f32)]) -> Vec<(u32, f32)> {
    let mut sum = Vec::with_capacity(first.len() + second.len());
    let (mut i, mut j) = (0, 0);
    loop {
        match (first.get(i), second.get(j)) {
            (Some(&(a, x)), Some(&(b, y))) => match a.cmp(&b) {
                Ordering::Less => {
                    sum.push((a, x));
                    i += 1;
                }
                Ordering::Greater => {
                    sum.push((b, y));
                    j += 1;
                }
                Ordering::Equal => {
                    sum.push((a, x + y));
                    i += 1;
                    j += 1;
                }
            },
            (Some(&entry), None) => {
                sum.push(entry);
                i += 1;
            }
            (None, Some(&entry)) => {
                sum.push(entry);
                j += 1;
            }
            (None, None) => return sum,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::group::tests::synthetic;
    use crate::brief::group::{most_central, score, Neighbour, Profile, COMPARISONS};
    use crate::fidelity::glossary::Glossary;

    fn arabic(glossary: &Glossary, title: &str, lead: &str) -> Profile {
        Profile::from_arabic(
            Some(title),
            &[lead.to_string()],
            glossary,
            Some("2015-07-21"),
        )
    }

    /// Wire copy of one event from two outlets is one story; articles that only share the
    /// words of every night ("the ministry said", a country's name) are not.
    #[test]
    fn one_event_groups_and_shared_common_words_do_not() {
        let glossary = Glossary::load("").unwrap();
        let night = [
            arabic(
                &glossary,
                "الداخلية: القبض على 431 شخصا من خلايا داعش",
                "أعلنت وزارة الداخلية السعودية القبض على 431 شخصا ينتمون إلى خلايا تنظيم داعش الإرهابي كانت تخطط لتنفيذ عمليات في المملكة.",
            ),
            arabic(
                &glossary,
                "تفكيك خلايا داعش والقبض على 431 متهما",
                "كشفت وزارة الداخلية عن تفكيك خلايا عنقودية مرتبطة بتنظيم داعش والقبض على 431 متهما كانوا يخططون لعمليات إرهابية في السعودية.",
            ),
            arabic(
                &glossary,
                "الداخلية: وفاة مقيم في حادث مروري بالرياض",
                "قالت وزارة الداخلية السعودية إن مقيما توفي في حادث مروري على طريق الملك فهد في الرياض صباح اليوم.",
            ),
            arabic(
                &glossary,
                "الهلال يتعاقد مع مدافع برازيلي",
                "أعلن نادي الهلال السعودي التعاقد مع مدافع برازيلي لمدة ثلاثة مواسم قادما من الدوري البرتغالي.",
            ),
            arabic(
                &glossary,
                "وزارة الصحة: حملة تطعيم في الرياض",
                "قالت وزارة الصحة السعودية إنها أطلقت حملة تطعيم ضد الحصبة في مدارس الرياض تستمر أسبوعين.",
            ),
        ];
        // The rest of a Saudi night: reports that also name the kingdom, its capital and a
        // ministry, each about something else, so that IDF weighs those words as a night does.
        let topics = [
            "الكهرباء",
            "التعليم",
            "الإسكان",
            "النقل",
            "المياه",
            "الزراعة",
            "التجارة",
            "العمل",
            "الرياضة",
            "الثقافة",
            "السياحة",
            "البلديات",
        ];
        let things = [
            "مشروع",
            "معرض",
            "مؤتمر",
            "برنامج",
            "مسابقة",
            "ميزانية",
            "تقرير",
            "جائزة",
            "منحة",
            "اتفاقية",
        ];
        let mut night = night.to_vec();
        for (i, topic) in topics.iter().enumerate() {
            for (_, thing) in things.iter().enumerate().filter(|(j, _)| (i + j) % 3 == 0) {
                night.push(arabic(
                    &glossary,
                    &format!("وزارة {topic} تطلق {thing} في الرياض"),
                    &format!("قالت وزارة {topic} السعودية إنها أطلقت {thing} {topic} في الرياض."),
                ));
            }
        }
        let neighbours = score(&night);
        let groups = stories(&neighbours, Limits::new(THRESHOLD));
        let story_of = |article: usize| groups.iter().position(|g| g.contains(&article));
        assert_eq!(story_of(0), story_of(1), "{groups:?}");
        for (a, b) in [(0, 2), (2, 4), (3, 4), (2, 3)] {
            assert_ne!(story_of(a), story_of(b), "{a} and {b}: {groups:?}");
        }
        assert!(stories(&score(&[]), Limits::new(THRESHOLD)).is_empty());
    }

    /// The default `brief.story_threshold`.
    const THRESHOLD: f64 = 0.25;

    fn words(texts: &[&str]) -> Vec<Profile> {
        texts
            .iter()
            .map(|text| Profile {
                words: text.split_whitespace().map(str::to_string).collect(),
                day: None,
            })
            .collect()
    }

    /// Single-link groups at `threshold`: what the brief did before, to compare with.
    fn single_link(neighbours: &[Vec<Neighbour>], threshold: f64) -> usize {
        let mut parent: Vec<usize> = (0..neighbours.len()).collect();
        fn find(parent: &mut [usize], mut node: usize) -> usize {
            while parent[node] != node {
                node = parent[node];
            }
            node
        }
        for (index, list) in neighbours.iter().enumerate() {
            for neighbour in list.iter().filter(|n| f64::from(n.similarity) >= threshold) {
                let other = neighbour.index as usize;
                let (a, b) = (find(&mut parent, index), find(&mut parent, other));
                parent[a.max(b)] = a.min(b);
            }
        }
        (0..neighbours.len())
            .filter(|&i| find(&mut parent, i) == i)
            .count()
    }

    /// The failure of single-link on a real night: a chain of articles, each close to the
    /// next, made one story of things that had nothing in common. Average linkage keeps the
    /// ends of the chain apart; a copy close to most of a story still joins it.
    #[test]
    fn a_chain_of_close_pairs_does_not_make_one_story() {
        let chain = words(&[
            "aa ab ac ad",
            "ac ad ae af",
            "ae af ag ah",
            "ag ah ai aj",
            "ai aj ak al",
            "ak al am an",
        ]);
        let neighbours = score(&chain);
        assert_eq!(single_link(&neighbours.neighbours, 0.3), 1);
        let groups = stories(&neighbours, Limits::new(0.3));
        assert!(groups.len() >= 3, "{groups:?}");
        assert!(groups.iter().all(|g| !(g.contains(&0) && g.contains(&5))));
        let story = words(&[
            "qa qb qc qd qe qf",
            "qa qb qc qd qe qg",
            "qa qb qc qd qf qg",
            "qa qb qc qd qh qi",
            "zz zy zx zw zv zu",
        ]);
        let neighbours = score(&story);
        let groups = stories(&neighbours, Limits::new(0.3));
        assert_eq!(groups, vec![vec![0, 1, 2, 3], vec![4]]);
    }

    #[test]
    fn the_size_cap_and_the_time_window_bound_a_story() {
        let mut same = words(&["one event told the same way"; 5]);
        let neighbours = score(&same);
        let limits = Limits {
            max_size: 3,
            ..Limits::new(THRESHOLD)
        };
        let groups = stories(&neighbours, limits);
        assert_eq!(groups, vec![vec![0, 1, 2], vec![3, 4]]);
        for (profile, day) in same
            .iter_mut()
            .zip([Some(10), Some(11), Some(20), None, Some(19)])
        {
            profile.day = day;
        }
        let window = Limits {
            window_days: 2,
            ..Limits::new(THRESHOLD)
        };
        // 3 has no date: it joins either way; the first pair takes it.
        let groups = stories(&score(&same), window);
        assert_eq!(groups, vec![vec![0, 1, 3], vec![2, 4]]);
    }

    #[test]
    fn a_threshold_above_one_keeps_every_article_apart() {
        let texts = words(&["aaa bbb ccc", "aaa bbb ccc", "ggg hhh iii"]);
        let matrix = score(&texts);
        assert_eq!(stories(&matrix, Limits::new(1.01)).len(), 3);
        assert_eq!(stories(&matrix, Limits::new(0.5)).len(), 2);
    }

    #[test]
    fn thousands_of_articles_group_into_their_stories() {
        let (count, size) = (20, 100);
        let profiles = synthetic(count, size, 20);
        let neighbours = score(&profiles);
        let groups = stories(&neighbours, Limits::new(0.15));
        let expected: Vec<Vec<usize>> = (0..count)
            .map(|story| (story * size..(story + 1) * size).collect())
            .collect();
        assert_eq!(groups, expected);
        let listed: usize = neighbours.neighbours.iter().map(Vec::len).sum();
        assert!(listed <= 2 * COMPARISONS * profiles.len());
        for members in &groups {
            let central = most_central(&neighbours.neighbours, members);
            assert!(central.is_some_and(|c| members.contains(&c)));
        }
    }
}
