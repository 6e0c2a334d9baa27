#!/bin/sh
# gen_signs.sh — photos with a rendered sign on them, and the truth beside
# them, for the OCR tests and bench_ocr.
#
#   bench/gen_signs.sh DATA SPLIT N SEED OUTDIR
#
# DATA is the directory holding flickr8k/ (images/, train.txt, dev.txt);
# SPLIT is train.txt or dev.txt.  From the images of the split, picked by
# SEED, it writes OUTDIR/sign_NNN.jpg (N photos, each with one sign of one
# or two words) and OUTDIR/plain_NNN.jpg (N other photos of the split, made
# the same way but without a sign: the text-free set), and OUTDIR/truth.tsv:
#
#   file <TAB> words (space-separated) <TAB> x0 y0 x1 y1 (the sign's box, px)
#        <TAB> font size angle blur quality fg bg
#
# Each photo is the Flickr8k image scaled to a side of 480..800 px; the sign
# is set in a DejaVu font (Debian fonts-dejavu-core) by ImageMagick, its
# letters 7-16 % of the photo's height, light on dark or dark on light,
# turned up to 10 degrees either way, the whole photo blurred a little and
# saved at JPEG quality 70-92.  Needs only ImageMagick and the fonts.
set -eu
if [ $# -ne 5 ]; then
    echo "usage: $0 DATA SPLIT N SEED OUTDIR" >&2
    exit 2
fi
data=$1 split=$2 n=$3 seed=$4 out=$5
list="$data/flickr8k/$split"
fonts=/usr/share/fonts/truetype/dejavu
[ -r "$list" ] || { echo "$0: $list: not readable" >&2; exit 1; }
[ -d "$fonts" ] || { echo "$0: $fonts: missing (Debian: fonts-dejavu-core)" >&2; exit 1; }
command -v convert >/dev/null || { echo "$0: convert: missing (Debian: imagemagick)" >&2; exit 1; }
mkdir -p "$out"

# One line of parameters per photo, from awk's seeded generator: a
# permutation of the split's images gives sign and plain photos apart.
awk -v n="$n" -v seed="$seed" -v fonts="$fonts" '
BEGIN {
    srand(seed);
    nw = split("COFFEE TICKETS OPEN EXIT STOP PIZZA HOTEL BAKERY PARKING MUSEUM BOOKS TAXI SALE MARKET " \
               "PHARMACY CAFE POLICE BANK GARAGE ENTRANCE THEATRE MUSIC FRESH FISH SCHOOL STATION " \
               "LIBRARY BEACH PARK GARDEN FLOWERS BREAD DINER BURGERS RESTAURANT CINEMA POST OFFICE " \
               "WELCOME CLOSED TOILETS HARBOUR CHURCH MARKET FERRY TRAINS BICYCLES RENTAL SURF SHOP " \
               "BAGELS DONUTS TACOS SUSHI NOODLES GROCERY LAUNDRY BARBER SALON FITNESS HOSPITAL " \
               "PLAYGROUND ZOO AQUARIUM STADIUM ARCADE BOWLING DANCE JAZZ BLUES ROCK VINYL RECORDS " \
               "CAMERA PHOTO STUDIO GALLERY ANTIQUES TOYS GAMES CANDY CHOCOLATE ICE CREAM JUICE TEA " \
               "WINE BEER PUB INN MOTEL HOSTEL CAMPING FUEL REPAIR TIRES WASH SPORTS GOLF TENNIS " \
               "SKATE SNOW LODGE CABIN RANCH FARM ORCHARD HONEY CHEESE BUTCHER DELI KEBAB GRILL " \
               "2024 1915 24 HOURS ROUTE 66", W, " ");
    nf = split("DejaVuSans-Bold DejaVuSans-Bold DejaVuSansCondensed-Bold DejaVuSerif-Bold " \
               "DejaVuSansMono-Bold DejaVuSans DejaVuSerif DejaVuSansCondensed", F, " ");
}
function r(a, b) { return a + (b - a) * rand(); }
function ri(a, b) { return int(a + (b - a + 1) * rand()); }
{ img[NR] = $1 }
END {
    total = NR;
    for (i = 1; i <= total; i++) { j = ri(1, total); t = img[i]; img[i] = img[j]; img[j] = t; }
    if (2 * n > total) n = int(total / 2);
    for (i = 1; i <= n; i++) {
        side = ri(480, 800);
        words = W[ri(1, nw)];
        # one sign in five has two words
        if (rand() < 0.2) words = words " " W[ri(1, nw)];
        case_ = rand();
        if (case_ < 0.15) words = tolower(words);
        else if (case_ < 0.3) {   # Title Case
            k = split(words, p, " "); words = "";
            for (m = 1; m <= k; m++) words = words (m > 1 ? " " : "") substr(p[m], 1, 1) tolower(substr(p[m], 2));
        }
        font = F[ri(1, nf)];
        size = int(side * r(0.07, 0.16) / 0.73 + 0.5);   # cap height ~0.73 em
        angle = (rand() < 0.5) ? 0 : r(-10, 10);
        blur = (rand() < 0.4) ? 0 : r(0.3, 1.5);
        q = ri(70, 92);
        # light on dark or dark on light, with a hue
        hi = ri(200, 255); lo = ri(0, 70);
        if (rand() < 0.5) { fl = hi; bl = lo } else { fl = lo; bl = hi }
        fg = sprintf("rgb(%d,%d,%d)", fl, fl + ri(-30, 0) * (fl > 100) + ri(0, 30) * (fl <= 100), fl);
        hue = ri(0, 2);
        bg_r = bl; bg_g = bl; bg_b = bl;
        if (hue == 0) bg_r = (bl > 100) ? bl : bl + ri(40, 140);
        else if (hue == 1) bg_b = (bl > 100) ? bl : bl + ri(40, 140);
        else bg_g = (bl > 100) ? bl - ri(0, 40) : bl + ri(0, 40);
        bg = sprintf("rgb(%d,%d,%d)", bg_r, bg_g, bg_b);
        pad = int(size * r(0.2, 0.6));
        printf "%03d\t%s\t%s\t%d\t%s\t%s\t%d\t%.1f\t%.2f\t%d\t%s\t%s\t%d\t%.4f\t%.4f\n",
            i, img[i], img[n + i], side, words, font, size, angle, blur, q, fg, bg, pad, rand(), rand();
    }
}' "$list" > "$out/params.tsv"

: > "$out/truth.tsv"
tab=$(printf '\t')
while IFS="$tab" read -r i src plainsrc side words font size angle blur q fg bg pad fx fy; do
    set -f
    # The sign alone, turned, on a transparent ground; its size decides
    # where it can go.
    convert -background "$bg" -fill "$fg" -font "$fonts/$font.ttf" -pointsize "$size" \
        label:"$words" -bordercolor "$bg" -border "${pad}x$((pad / 2 + 2))" \
        -background none -rotate "$angle" "$out/sign.png"
    set +f
    wh=$(identify -format '%w %h' "$out/sign.png")
    sw=${wh% *} sh=${wh#* }
    if [ "$sw" -gt "$side" ]; then
        # A long sign on a small photo: shrink the sign to 95 % of the width.
        convert "$out/sign.png" -resize "$((side * 95 / 100))x" "$out/sign.png"
        wh=$(identify -format '%w %h' "$out/sign.png"); sw=${wh% *} sh=${wh#* }
    fi
    x=$(awk -v f="$fx" -v s="$side" -v w="$sw" 'BEGIN { print int(f * (s - w)) }')
    y=$(awk -v f="$fy" -v s="$side" -v h="$sh" 'BEGIN { print int(f * (s - h)) }')
    blurarg=""
    [ "$blur" = "0.00" ] || blurarg="-blur 0x$blur"
    # shellcheck disable=SC2086
    convert "$data/flickr8k/images/$src" -resize "${side}x${side}!" "$out/sign.png" \
        -geometry "+$x+$y" -composite $blurarg -quality "$q" "$out/sign_$i.jpg"
    # shellcheck disable=SC2086
    convert "$data/flickr8k/images/$plainsrc" -resize "${side}x${side}!" $blurarg -quality "$q" "$out/plain_$i.jpg"
    printf 'sign_%s.jpg\t%s\t%d %d %d %d\t%s %s %s %s %s %s %s\n' "$i" "$words" "$x" "$y" \
        "$((x + sw))" "$((y + sh))" "$font" "$size" "$angle" "$blur" "$q" "$fg" "$bg" >> "$out/truth.tsv"
done < "$out/params.tsv"
rm -f "$out/sign.png"
