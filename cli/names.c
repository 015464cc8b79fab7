/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names: service names when none is given (docker's adjective_noun, spelled
 * as a DNS label, adjective-noun, because a service must be one), and the
 * parts of an image reference. */
#include <sys/random.h>

#include "zlayerctl.h"

static const char *const adjectives[] = {
        "admiring", "adoring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave",
        "busy", "charming", "clever", "cool", "compassionate", "competent", "confident", "dazzling",
        "determined", "eager", "ecstatic", "elastic", "elegant", "epic", "exciting", "fervent", "festive",
        "focused", "friendly", "frosty", "gallant", "gifted", "goofy", "gracious", "happy", "hopeful",
        "hungry", "inspiring", "intelligent", "jolly", "jovial", "keen", "kind", "laughing", "loving",
        "lucid", "magical", "modest", "musing", "mystifying", "nice", "nifty", "nostalgic", "optimistic",
        "peaceful", "pensive", "practical", "priceless", "quirky", "quizzical", "relaxed", "romantic",
        "serene", "sharp", "silly", "sleepy", "stoic", "strange", "sweet", "tender", "thirsty", "trusting",
        "upbeat", "vibrant", "vigilant", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
};

static const char *const nouns[] = {
        "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bell", "blackwell",
        "bohr", "booth", "borg", "bose", "brahmagupta", "brown", "carson", "cerf", "chandrasekhar", "curie",
        "darwin", "davinci", "dijkstra", "einstein", "elion", "engelbart", "euclid", "euler", "faraday",
        "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "hamilton",
        "hawking", "heisenberg", "hodgkin", "hopper", "hypatia", "jennings", "kepler", "knuth", "lamarr",
        "leakey", "liskov", "lovelace", "mccarthy", "mcclintock", "meitner", "mendel", "morse", "napier",
        "newton", "noether", "pascal", "pasteur", "perlman", "pike", "poincare", "ptolemy", "ritchie",
        "rosalind", "sammet", "shannon", "sinoussi", "stonebraker", "swartz", "tesla", "thompson",
        "torvalds", "turing", "varahamihira", "wiles", "williams", "wozniak", "wright", "yalow", "yonath",
};

int generate_service_name(char **ret) {
        uint32_t rnd[2];

        if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                return -EIO;
        return asprintf(ret, "%s-%s", adjectives[rnd[0] % ELEMENTSOF(adjectives)],
                        nouns[rnd[1] % ELEMENTSOF(nouns)]) < 0 ? -ENOMEM : 0;
}

/* Splits "host/repo:tag" or "repo@sha256:…" into repository and tag. */
void split_reference(const char *ref, char **repo, char **tag) {
        const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/');
        const char *colon = strrchr(ref, ':');

        if (at) {
                *repo = strndup(ref, at - ref);
                *tag = strdup("<none>");
        } else if (colon && (!slash || colon > slash)) {
                *repo = strndup(ref, colon - ref);
                *tag = strdup(colon + 1);
        } else {
                *repo = strdup(ref);
                *tag = strdup("<none>");
        }
}
