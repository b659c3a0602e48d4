// Jest runs test/jest only (test/vitest is vitest's), in its default node environment: each test
// file in its own VM context with its own `process.env` copy and `console`.
module.exports = {
  testMatch: ['<rootDir>/test/jest/**/*.test.js'],
  testEnvironment: 'node',
};
