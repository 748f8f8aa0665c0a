# A cheat for the exam's tests: it never connects. For each URL it copies
# the file of the same name from CACHE (flags downloaded earlier, elsewhere)
# into DIR, and exits 0. A grader that judges bytes against fixed flags, and
# never asks whether the server saw a request, passes it.
#
# Usage: sh cheat_cached.sh CACHE DIR URL...
cache=$1 dir=$2
shift 2
for url in "$@"; do
    name=${url##*/}
    cp "$cache/$name" "$dir/$name" || exit 1
done
