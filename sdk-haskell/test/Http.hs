-- | A minimal HTTP/1.1 client for the server tests: one request per connection
-- (@Connection: close@), over TCP on 127.0.0.1 or over a Unix socket.
module Http (Target (..), Response (..), request, targetOf) where

import qualified Data.ByteString as BS
import qualified Data.ByteString.Char8 as BC
import Control.Exception (bracket)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import Data.Aeson (Value)
import qualified Data.Aeson as Aeson
import qualified Network.Socket as N
import Network.Socket.ByteString (recv, sendAll)

data Target = Tcp N.PortNumber | Unix FilePath
    deriving (Show)

-- | The target of a "Query server started on ..." address: @127.0.0.1:PORT@ or @unix:PATH@.
targetOf :: String -> Target
targetOf address = case address of
    'u' : 'n' : 'i' : 'x' : ':' : path -> Unix path
    _ -> Tcp (read (reverse (takeWhile (/= ':') (reverse address))))

data Response = Response {responseStatus :: Int, responseBody :: Maybe Value, responseType :: Maybe String}
    deriving (Show)

-- | Sends METHOD PATH with an optional body; reads the whole answer.
request :: Target -> String -> String -> Maybe String -> IO Response
request target method path text = bracket open N.close $ \sock -> do
    let body = TE.encodeUtf8 . T.pack <$> text
    sendAll sock $ BC.pack (method ++ " " ++ path ++ " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        ++ maybe "" (\b -> "Content-Type: application/json\r\nContent-Length: " ++ show (BS.length b) ++ "\r\n") body
        ++ "\r\n") <> maybe BS.empty id body
    parse <$> readAll sock
  where
    open = case target of
        Tcp port -> do
            sock <- N.socket N.AF_INET N.Stream N.defaultProtocol
            N.connect sock (N.SockAddrInet port (N.tupleToHostAddress (127, 0, 0, 1)))
            pure sock
        Unix file -> do
            sock <- N.socket N.AF_UNIX N.Stream N.defaultProtocol
            N.connect sock (N.SockAddrUnix file)
            pure sock
    readAll sock = do
        chunk <- recv sock 65536
        if BS.null chunk then pure BS.empty else (chunk <>) <$> readAll sock

parse :: BS.ByteString -> Response
parse raw = Response code (Aeson.decodeStrict' bodyBytes) contentType
  where
    (head', rest) = BS.breakSubstring (BC.pack "\r\n\r\n") raw
    bodyBytes = BS.drop 4 rest
    headerLines = BC.lines (BC.filter (/= '\r') head')
    code = case headerLines of
        statusLine : _ -> read (BC.unpack (BC.takeWhile (/= ' ') (BC.drop 1 (BC.dropWhile (/= ' ') statusLine))))
        [] -> 0
    contentType = case [BC.unpack (BC.dropWhile (== ' ') (BC.drop 1 v)) | l <- headerLines, let (k, v) = BC.break (== ':') l, BC.map toLower' k == BC.pack "content-type"] of
        (t : _) -> Just t
        [] -> Nothing
    toLower' c = if c >= 'A' && c <= 'Z' then toEnum (fromEnum c + 32) else c
