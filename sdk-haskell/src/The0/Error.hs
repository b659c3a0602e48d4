{-# LANGUAGE ExistentialQuantification #-}

-- |
-- Module      : The0.Error
-- Description : The exceptions every the0 call can throw
--
-- Every failure of the core reaches Haskell as an exception carrying the core's status name
-- (@\"INVALID_KEY\"@, @\"READ_ONLY\"@...) and its message, word for word the same in every the0
-- SDK. A state write while the process serves queries throws 'ReadOnlyStateError' (upstream's
-- name); everything else throws 'The0Error'. Both are 'SomeThe0Error's, so one handler catches
-- every the0 failure:
--
-- @
-- r <- try (State.set \"a/b\" True)
-- case r of
--     Left (e :: SomeThe0Error) -> hPutStrLn stderr (displayException e)
--     Right () -> pure ()
-- @
module The0.Error
    ( The0Error (..)
    , ReadOnlyStateError (..)
    , SomeThe0Error (..)
    , errorStatusOf
    ) where

import Control.Exception (Exception (..), SomeException)
import Data.Typeable (cast)

-- | The root of the0's exceptions: catch it to handle any the0 failure.
data SomeThe0Error = forall e. Exception e => SomeThe0Error e

instance Show SomeThe0Error where
    showsPrec p (SomeThe0Error e) = showsPrec p e

instance Exception SomeThe0Error where
    displayException (SomeThe0Error e) = displayException e

-- | 'toException' and 'fromException' of the0's exceptions: they travel as a 'SomeThe0Error'.
the0ToException :: Exception e => e -> SomeException
the0ToException = toException . SomeThe0Error

the0FromException :: Exception e => SomeException -> Maybe e
the0FromException e = do
    SomeThe0Error inner <- fromException e
    cast inner

-- | A failure reported by the core: its stable status name and its message.
data The0Error = The0Error
    { errorStatus :: String
    -- ^ the core's status name: @\"INVALID_KEY\"@, @\"INVALID_JSON\"@, @\"CORRUPT_STATE\"@,
    -- @\"MISSING_ENV\"@, @\"IO\"@, @\"INVALID_ARGUMENT\"@...
    , errorMessage :: String
    -- ^ the core's message, naming what was wrong
    }
    deriving (Show, Eq)

instance Exception The0Error where
    toException = the0ToException
    fromException = the0FromException
    displayException e = errorStatus e ++ ": " ++ errorMessage e

-- | A state write (@set@, @delete@, @clear@) while this process serves queries: queries are
-- read-only in every mode. The same type is exported by "The0.State" and "The0.Query".
newtype ReadOnlyStateError = ReadOnlyStateError String
    deriving (Show, Eq)

instance Exception ReadOnlyStateError where
    toException = the0ToException
    fromException = the0FromException
    displayException (ReadOnlyStateError message) = "READ_ONLY: " ++ message

-- | The status name and message of a the0 exception, if it is one (@READ_ONLY@ for
-- 'ReadOnlyStateError').
errorStatusOf :: SomeException -> Maybe (String, String)
errorStatusOf e = case fromException e of
    Just (ReadOnlyStateError message) -> Just ("READ_ONLY", message)
    Nothing -> (\t -> (errorStatus t, errorMessage t)) <$> fromException e
