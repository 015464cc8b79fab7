/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Service names when none is given: docker's adjective_noun, spelled as a
 * DNS label (adjective-noun) because a service must be one. */
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
