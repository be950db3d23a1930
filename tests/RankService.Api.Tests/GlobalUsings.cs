// The namespaces nearly every API test reads: the HTTP client, JSON, and the API's own views and job types.
global using System.Net;
global using System.Net.Http.Json;
global using System.Text.Json;
global using RankService.Api.Apis;
global using RankService.Api.Jobs;
