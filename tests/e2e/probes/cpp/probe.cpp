// The gcc13 / cpp-gcc13 probe: a C++ program linked against libstdc++ (as compiled bots are).
#include <iostream>
#include <map>
#include <string>

int main() {
    std::map<std::string, int> counts{{"c++", 17}};
    std::cout << "probe ok: c++" << counts["c++"] << " libstdc++" << std::endl;
    return 0;
}
