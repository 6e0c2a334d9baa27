/* vocab.c — what CLIP may call things: the zero-shot vocabulary and the
 * prompt templates each group is embedded with (prompt ensembling: a label's
 * text embedding is the normalised mean over its templates, which makes
 * zero-shot labels steadier than any single phrasing).
 *
 * Groups are scored separately (a softmax within each), so "beach" does not
 * compete with "dog": an image has a place, things in it, an activity and a
 * look.  The object list is the COCO-80 classes plus common things photos
 * show that COCO lacks.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "describe/vocab.h"
#include "models/models.h"

/* The COCO-80 names come from the detector's own list (coco_label), so the
 * two can never drift apart; vocab_init() puts them in front of these. */
static const char *const object_extras[] = {
    /* people */
    "man", "woman", "boy", "girl", "baby", "child", "toddler", "teenager", "old man", "old woman",
    "crowd", "family", "couple", "soldier", "police officer", "bride", "groom", "athlete",
    "football player", "basketball player", "soccer player", "cyclist", "skier", "surfer",
    "swimmer", "runner", "climber", "skateboarder", "snowboarder", "musician", "guitarist",
    "singer", "dancer", "clown", "chef", "farmer", "cowboy",
    /* animals */
    "puppy", "kitten", "black dog", "white dog", "brown dog", "poodle", "labrador", "golden retriever",
    "german shepherd", "pug", "chihuahua", "husky", "dalmatian", "greyhound", "terrier",
    "duck", "goose", "swan", "chicken", "eagle", "owl", "parrot", "pigeon", "seagull", "penguin",
    "flamingo", "fish", "shark", "dolphin", "whale", "turtle", "frog", "snake", "lizard",
    "butterfly", "bee", "spider", "monkey", "gorilla", "lion", "tiger", "leopard", "wolf", "fox",
    "deer", "rabbit", "squirrel", "pig", "goat", "donkey", "camel", "kangaroo", "panda",
    "polar bear", "pony", "bull", "calf", "lamb",
    /* things */
    "ball", "soccer ball", "basketball", "football", "tennis ball", "volleyball", "stick", "rope",
    "toy", "balloon", "flag", "sign", "banner", "poster", "painting", "statue", "fountain",
    "tent", "hat", "helmet", "sunglasses", "glasses", "scarf", "jacket", "coat", "dress", "shirt",
    "jeans", "shorts", "swimsuit", "uniform", "costume", "mask", "shoes", "boots", "gloves",
    "guitar", "drum", "piano", "violin", "microphone", "camera", "phone", "computer", "television",
    "lamp", "candle", "window", "door", "stairs", "fence", "wall", "gate", "bridge", "tower",
    "house", "building", "skyscraper", "church", "castle", "barn", "tree", "palm tree", "flower",
    "flowers", "bush", "leaves", "rock", "log", "wave", "waterfall", "snowman", "fire",
    "bonfire", "fireworks", "smoke", "sand castle", "sled", "kayak", "canoe", "sailboat",
    "ship", "jet ski", "tractor", "van", "taxi", "ambulance", "fire truck", "police car",
    "race car", "jeep", "scooter", "wheelchair", "stroller", "cart", "wagon", "carriage",
    "helicopter", "hot air balloon", "trampoline", "swing", "slide", "pool", "hose",
    "food", "bread", "ice cream", "cookie", "coffee", "beer", "wine", "table", "sofa", "pillow",
    "blanket", "box", "bag", "basket", "bucket", "bicycle helmet", "tire", "trophy", "medal",
};

#define NCOCO 80
#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
static const char *objects[NCOCO + N(object_extras)];

static void fill_objects(void)
{
    for (int i = 0; i < NCOCO; i++) objects[i] = coco_label(i);
    memcpy(objects + NCOCO, object_extras, sizeof object_extras);
}

void vocab_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill_objects);
}

static const char *const scenes[] = {
    "beach", "ocean", "sea", "lake", "river", "pond", "waterfall", "swimming pool", "harbor",
    "forest", "woods", "jungle", "field", "meadow", "grass", "lawn", "garden", "park",
    "playground", "farm", "desert", "mountain", "hill", "valley", "canyon", "cliff", "cave",
    "snow", "ski slope", "glacier", "ice rink", "city", "city street", "road", "highway",
    "sidewalk", "alley", "parking lot", "crosswalk", "bridge", "square", "market", "shop",
    "restaurant", "cafe", "bar", "kitchen", "living room", "bedroom", "bathroom", "dining room",
    "office", "classroom", "library", "hospital", "church", "museum", "gym", "stadium",
    "soccer field", "football field", "baseball field", "basketball court", "tennis court",
    "race track", "skate park", "airport", "train station", "subway", "bus stop", "backyard",
    "porch", "driveway", "rooftop", "balcony", "stage", "concert", "party", "wedding",
    "parade", "festival", "campsite", "trail", "rocky shore", "sand dunes", "countryside",
    "village", "construction site", "factory", "warehouse", "garage", "corridor", "staircase",
    "zoo", "aquarium", "circus", "fountain", "dirt road", "mud", "puddle", "rain", "fog", "sky",
    "sunset", "sunrise", "night sky", "underwater", "indoors", "outdoors",
};

static const char *const activities[] = {
    "running", "walking", "jumping", "swimming", "diving", "surfing", "skiing", "snowboarding",
    "skateboarding", "biking", "riding a bike", "riding a horse", "riding a motorcycle", "climbing",
    "rock climbing", "hiking", "dancing", "singing", "playing guitar", "playing music",
    "playing soccer", "playing football", "playing basketball", "playing baseball",
    "playing tennis", "playing volleyball", "playing in the water", "playing in the snow",
    "playing in the sand", "playing with a ball", "playing fetch", "catching a frisbee",
    "throwing a ball", "kicking a ball", "fighting", "wrestling", "sitting", "standing",
    "lying down", "sleeping", "eating", "drinking", "cooking", "reading", "talking",
    "laughing", "smiling", "posing for a picture", "taking a picture", "waving", "hugging",
    "kissing", "shopping", "working", "fishing", "boating", "kayaking", "sledding",
    "splashing", "racing", "performing", "flying a kite", "digging", "carrying something",
    "looking at the camera", "crossing the street", "waiting",
};

static const char *const attributes[] = {
    "black and white", "colorful", "dark", "bright", "sunny", "cloudy", "rainy", "snowy",
    "foggy", "at night", "at sunset", "blurry", "close-up", "aerial", "wide angle",
    "crowded", "empty", "busy", "quiet", "old", "vintage", "modern", "wet", "muddy",
    "dusty", "autumn", "winter", "summer", "spring", "christmas", "halloween", "funny",
    "cute", "scary", "beautiful", "happy", "sad", "action", "portrait", "selfie", "group",
    "landscape", "panorama", "indoor", "outdoor", "underwater", "motion blur", "silhouette",
};

/* Templates: "%s" is the label.  Two or three each, since every one costs a
 * text-encoder run per label (once per model; the result is cached on disk);
 * chosen to cover how people write alt text, not tuned on a benchmark. */
static const char *const t_object[] = {"a photo of a %s.", "a close-up photo of the %s.", "a photo of a small %s."};
static const char *const t_scene[] = {"a photo of a %s.", "a photo taken at the %s."};
static const char *const t_activity[] = {"a photo of a person %s.", "a photo of a dog %s."};
static const char *const t_attribute[] = {"a %s photo.", "a photo that is %s."};


const vocab_group vocab_groups[VOCAB_NGROUPS] = {
    {"object", objects, N(objects), t_object, N(t_object), 0.15f},
    {"scene", scenes, N(scenes), t_scene, N(t_scene), 0.15f},
    {"activity", activities, N(activities), t_activity, N(t_activity), 0.2f},
    {"attribute", attributes, N(attributes), t_attribute, N(t_attribute), 0.2f},
};
